/**
 * Secrets in a test's request (README "Security", "Secrets"), in process: the store and the
 * `test_config` the drivers read keep the real values; every output of the orchestrator — the
 * API's test resources, the JSON, CSV and HTML reports, the dashboard — shows `***`.
 */
import assert from "node:assert/strict";
import { REDACTED } from "../../shared/redact.ts";
import { AVALANCHE, call, createHarness } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const SECRETS = ["s3cret", "tok3n"];
const BODY = "password=hunter2";
const REQUEST = {
  ...AVALANCHE,
  method: "POST",
  headers: {
    Authorization: "Bearer s3cret",
    "x-my-token": "tok3n",
    Accept: "text/plain",
  },
  secret_headers: ["X-My-Token"],
  body: BODY,
} as const;

/** Fails naming `where` when `text` shows a secret header value. */
function assertNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `${where} shows "${secret}": ${text.slice(0, 2000)}`);
  }
}

Deno.test("the API, its reports and the dashboard show secret headers as ***", async () => {
  const h = await createHarness();
  try {
    const created = await call(h.app, "POST", "/api/tests", REQUEST);
    assert.equal(created.status, 201);
    const config = created.body.config as Json;
    assert.deepEqual(config.headers, {
      Authorization: REDACTED,
      "x-my-token": REDACTED,
      Accept: "text/plain",
    });
    assert.equal(config.body, BODY, "API callers hold the token: they see the body");
    assertNoSecret("POST /api/tests", created.text);
    for (const path of ["/api/tests", "/api/tests/t1", "/api/tests/t1/report?format=json"]) {
      const res = await call(h.app, "GET", path);
      assert.equal(res.status, 200, path);
      assertNoSecret(path, res.text);
      assert.match(res.text, /\*\*\*/, `${path} says the value was redacted`);
    }
    const csv = await call(h.app, "GET", "/api/tests/t1/report?format=csv");
    assert.equal(csv.status, 200);
    assertNoSecret("the CSV report", csv.text);
    // The HTML report and the dashboard are for people without the token: no body either.
    for (const path of ["/reports/t1.html", "/dashboard/snapshot", "/dashboard/snapshot?test=t1"]) {
      const res = await call(h.app, "GET", path);
      assert.equal(res.status, 200, path);
      assertNoSecret(path, res.text);
      assert.ok(!res.text.includes("hunter2"), `${path} shows the body`);
      assert.match(res.text, /\*\*\*/, `${path} says the value was redacted`);
    }
    const snapshot = (await call(h.app, "GET", "/dashboard/snapshot")).body as Json;
    assert.equal(snapshot.current.test.config.body, REDACTED);
    assert.equal(snapshot.tests[0].config.headers.Accept, "text/plain");
  } finally {
    await h.close();
  }
});

Deno.test("the drivers' test_config and the store keep the real header values", async () => {
  const h = await createHarness();
  try {
    await call(h.app, "POST", "/api/tests", REQUEST);
    const [published] = h.published("test_config");
    assert.deepEqual(published?.headers, REQUEST.headers, "drivers must send the real values");
    assert.deepEqual(published?.secret_headers, ["X-My-Token"], "a standby redacts the same");
    assert.equal(published?.body, BODY);
    assert.deepEqual(h.store.getTest("t1")?.config.headers, REQUEST.headers);
  } finally {
    await h.close();
  }
});

Deno.test("a test mirrored from Kafka (as a standby does) is stored real and shown redacted", async () => {
  const h = await createHarness();
  try {
    const { secret_headers: _s, ...unmarked } = REQUEST;
    await h.bus.publish("test_config", {
      ...unmarked,
      headers: { ...REQUEST.headers, "X-Api-Key": "k3y" },
      secret_headers: ["X-MY-TOKEN"],
      test_id: "m1",
      timestamp: h.clock.t,
    });
    assert.equal(h.store.getTest("m1")?.config.headers?.["X-Api-Key"], "k3y");
    const view = await call(h.app, "GET", "/api/tests/m1");
    assert.equal(view.status, 200);
    assertNoSecret("a mirrored test", view.text);
    assert.ok(!view.text.includes("k3y"), view.text);
    assert.equal((view.body.config as Json).headers["x-my-token"], REDACTED);
  } finally {
    await h.close();
  }
});
