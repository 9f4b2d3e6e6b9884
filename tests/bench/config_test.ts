import assert from "node:assert/strict";
import { type BenchConfig, parseBenchConfig as parse, SECTIONS } from "../../bench/config.ts";
import { HELP, UsageError } from "../../shared/usage_error.ts";

/** The config, failing the test on a help request. */
function parseBenchConfig(env: Record<string, string>, args: string[]): BenchConfig {
  const config = parse(env, args);
  assert.ok(config !== HELP && !("help" in config), "asked for help");
  return config as BenchConfig;
}

Deno.test("bench config: --only picks sections, every one by default", () => {
  const table: [string, string[], string[]][] = [
    ["default", [], [...SECTIONS]],
    ["one", ["--only", "aggregation"], ["aggregation"]],
    ["a list with blanks", ["--only=staleness, aggregation,"], ["staleness", "aggregation"]],
  ];
  for (const [name, args, only] of table) {
    const config = parseBenchConfig({}, args);
    assert.deepEqual(config.only, only, name);
  }
});

Deno.test("bench config: an unknown section and a bad broker list are named together", () => {
  let err: unknown;
  try {
    parse({ KAFKA_BROKERS: "nohost" }, ["--only", "aggregation,speed"]);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof UsageError);
  assert.match(err.message, /--only.*unknown section "speed"/);
  assert.match(err.message, /KAFKA_BROKERS/);
});

Deno.test("bench config: -h asks for help", () => {
  assert.equal(parse({}, ["-h", "--only", "nothing"]), HELP);
});

Deno.test("bench config: --quick shortens the aggregation windows; KAFKA_BROKERS is read", () => {
  const quick = parseBenchConfig({ KAFKA_BROKERS: "127.0.0.1:19092" }, ["--quick"]);
  assert.equal(quick.aggregationSeconds, 5);
  assert.equal(quick.aggregationCycles, 2);
  assert.deepEqual(quick.brokers, ["127.0.0.1:19092"]);
  const full = parseBenchConfig({}, []);
  assert.equal(full.aggregationSeconds, 10);
  assert.equal(full.aggregationCycles, 4);
  assert.equal(full.brokers, undefined);
});

Deno.test("bench config: --aggregation-age is whole seconds, 0 by default", () => {
  assert.equal(parseBenchConfig({}, []).aggregationAge, 0);
  assert.equal(parseBenchConfig({}, ["--aggregation-age", "600"]).aggregationAge, 600);
  for (const bad of ["-5", "1.5", "ten", "3601"]) {
    assert.throws(
      () => parse({}, ["--aggregation-age", bad]),
      (err: unknown) => err instanceof UsageError && /--aggregation-age/.test(err.message),
      bad,
    );
  }
});
