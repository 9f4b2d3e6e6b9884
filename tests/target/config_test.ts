import assert from "node:assert/strict";
import { parseTargetConfig } from "../../target/config.ts";
import { HELP } from "../../shared/usage_error.ts";

Deno.test("parseTargetConfig(): defaults, env, flags winning over env", () => {
  const table: [Record<string, string>, string[], unknown][] = [
    [{}, [], { hostname: "127.0.0.1", port: 8080 }],
    [{ PORT: "9000", HOST: "0.0.0.0" }, [], { hostname: "0.0.0.0", port: 9000 }],
    [{ PORT: "9000" }, ["--port", "9001", "--host=::1"], { hostname: "::1", port: 9001 }],
    [{ PORT: "bad" }, ["-h"], HELP],
  ];
  for (const [env, args, want] of table) {
    assert.deepEqual(parseTargetConfig(env, args), want, args.join(" "));
  }
});

Deno.test("parseTargetConfig() names every bad value and where it came from", () => {
  const table: [Record<string, string>, string[], string[]][] = [
    [{ PORT: "http" }, [], ['PORT must be a port number 1-65535, got "http"']],
    [{}, ["--port", "70000"], ['--port must be a port number 1-65535, got "70000"']],
    [{ PORT: "0" }, ["--bogus", "x", "--host="], [
      "Unknown option '--bogus'",
      "Unexpected argument 'x'",
      '--host must not be empty, got ""',
      'PORT must be a port number 1-65535, got "0"',
    ]],
  ];
  for (const [env, args, problems] of table) {
    assert.throws(() => parseTargetConfig(env, args), { name: "UsageError", problems });
  }
});
