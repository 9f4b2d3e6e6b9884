import assert from "node:assert/strict";
import { parseTargetConfig } from "../../target/config.ts";

Deno.test("target config: defaults, PORT, --port wins, bad values are reported together", () => {
  assert.deepEqual(parseTargetConfig({}, []), { hostname: "127.0.0.1", port: 8080, help: false });
  assert.equal(parseTargetConfig({ PORT: "9000" }, []).port, 9000);
  assert.equal(parseTargetConfig({ PORT: "9000" }, ["--port", "9001"]).port, 9001);
  assert.throws(() => parseTargetConfig({ PORT: "http" }, []), /PORT must be a port number/);
  assert.throws(() => parseTargetConfig({}, ["--port", "70000"]), /--port must be a port number/);
  assert.throws(() => parseTargetConfig({}, ["--bogus"]), /bogus/);
});
