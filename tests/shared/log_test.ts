import assert from "node:assert/strict";
import { createLogger, type LogFields } from "../../shared/log.ts";

/** Every line a logger in `json` mode or not writes for `fields`. */
function lines(json: boolean, msg: string, fields: LogFields): string {
  const out: string[] = [];
  createLogger({ component: "test" }, { json, sink: (l) => out.push(l) }).warn(msg, fields);
  return out.join("\n");
}

const CONFIG = {
  test_id: "t1",
  target_url: "http://127.0.0.1:8080/ping",
  headers: { Authorization: "Bearer s3cret", "X-My-Token": "tok3n", Accept: "text/plain" },
  secret_headers: ["x-my-token"],
  body: "password=hunter2",
};

Deno.test("a logged config, headers record or body never shows a secret, in either format", () => {
  for (const json of [false, true]) {
    const cases: [string, LogFields][] = [
      ["a config field", { config: CONFIG }],
      ["a headers field", { headers: CONFIG.headers, secret_headers: CONFIG.secret_headers }],
      ["a body field", { body: CONFIG.body }],
      ["a config's fields spread", { ...CONFIG }],
    ];
    for (const [name, fields] of cases) {
      const line = lines(json, "test configured", fields);
      for (const secret of ["s3cret", "tok3n", "hunter2"]) {
        assert.doesNotMatch(line, new RegExp(secret), `${name} (json: ${json}): ${line}`);
      }
      assert.match(line, /\*\*\*/, `${name} says something was redacted`);
    }
    // What is not secret is still there.
    assert.match(lines(json, "m", { config: CONFIG }), /text\/plain/);
    assert.match(lines(json, "m", { config: CONFIG }), /127\.0\.0\.1:8080/);
  }
});

Deno.test("log lines carry no raw control character: they are escaped, not lost", () => {
  const evil = "boom\x1b[2J\x1b]0;pwned\x07\x9b31m\nFAKE";
  for (const json of [false, true]) {
    const line = lines(json, `metrics ignored: ${evil}`, { error: evil, plain: "a\x1bb" });
    // deno-lint-ignore no-control-regex -- looking for control characters is the test
    assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f]/, `json: ${json}: ${line}`);
    assert.match(line, /\\u001b\[2J/);
    if (json) assert.equal(JSON.parse(line).error, evil, "JSON lines keep the value exactly");
  }
});

Deno.test("fields without secrets are logged as they are", () => {
  const line = lines(false, "test created", { test_id: "t1", count: 3, error: new Error("x y") });
  assert.match(line, /WARN {2}\[test\] test created test_id=t1 count=3 error="x y"$/);
});
