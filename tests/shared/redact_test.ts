import assert from "node:assert/strict";
import {
  isSecretHeader,
  redactConfig,
  REDACTED,
  redactHeaders,
  redactTest,
} from "../../shared/redact.ts";

Deno.test("isSecretHeader() knows the usual secret headers and the marked ones, in any case", () => {
  const table: [name: string, marked: string[], secret: boolean][] = [
    ["Authorization", [], true],
    ["authorization", [], true],
    ["AUTHORIZATION", [], true],
    ["Proxy-Authorization", [], true],
    ["Cookie", [], true],
    ["set-cookie", [], true],
    ["X-Api-Key", [], true],
    ["x-API-key", [], true],
    ["Accept", [], false],
    ["X-Api-Keys", [], false],
    ["Authorization-Hint", [], false],
    ["X-My-Token", [], false],
    ["X-My-Token", ["x-my-token"], true],
    ["x-my-token", ["X-MY-TOKEN"], true],
    ["X-Other", ["X-My-Token"], false],
  ];
  for (const [name, marked, secret] of table) {
    assert.equal(isSecretHeader(name, marked), secret, `${name} marked ${marked}`);
  }
});

Deno.test("redactHeaders() replaces secret values only, keeping names and order", () => {
  const headers = {
    Authorization: "Bearer s3cret",
    Accept: "text/plain",
    cookie: "session=abc",
    "X-My-Token": "tok3n",
  };
  assert.deepEqual(Object.entries(redactHeaders(headers, ["x-my-token"])), [
    ["Authorization", REDACTED],
    ["Accept", "text/plain"],
    ["cookie", REDACTED],
    ["X-My-Token", REDACTED],
  ]);
  assert.equal(headers.Authorization, "Bearer s3cret", "the input is left as it was");
});

Deno.test("redactConfig() hides the body unless asked to show it, and is idempotent", () => {
  const config = {
    test_id: "t1",
    target_url: "http://127.0.0.1/",
    headers: { "x-api-key": "k3y", "X-Trace": "1" },
    secret_headers: ["X-Trace"],
    body: '{"password":"hunter2"}',
  };
  const api = redactConfig(config, { showBody: true });
  assert.deepEqual(api, {
    ...config,
    headers: { "x-api-key": REDACTED, "X-Trace": REDACTED },
  });
  const file = redactConfig(config, { showBody: false });
  assert.equal(file.body, REDACTED);
  assert.deepEqual(redactConfig(file, { showBody: false }), file);
  assert.deepEqual(redactConfig(api, { showBody: true }), api);
  assert.equal(config.body, '{"password":"hunter2"}', "the input is left as it was");
  // Nothing to redact: the config comes back equal.
  const plain = { test_id: "t2", headers: { Accept: "*/*" } };
  assert.deepEqual(redactConfig(plain, { showBody: false }), plain);
});

Deno.test("redactTest() redacts the config of a test resource and keeps the rest", () => {
  const view = {
    test_id: "t1",
    state: "finished",
    config: { headers: { Authorization: "Basic eDp5" }, body: "b" },
  };
  assert.deepEqual(redactTest(view, { showBody: false }), {
    test_id: "t1",
    state: "finished",
    config: { headers: { Authorization: REDACTED }, body: REDACTED },
  });
});
