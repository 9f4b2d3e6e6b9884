import assert from "node:assert/strict";
import { testConfigSchema } from "../../shared/messages.ts";
import {
  type TestFlagDefaults,
  type TestFlagValues,
  testParamsFromFlags,
} from "../../shared/test_flags.ts";

const URL = "http://127.0.0.1:8080/ping";
const LOADTEST: TestFlagDefaults = { count: "1000", tsunamiDelay: "10" };
const target = (value: string | undefined) => ({ name: "--target", value });

Deno.test("testParamsFromFlags() gives what POST /api/tests and test_config accept", () => {
  const table: [string, TestFlagValues, object][] = [
    ["defaults", {}, {
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: 1000,
      target_throughput: null,
      duration_s: null,
      connections: 10,
      timeout_ms: 10000,
      method: "GET",
    }],
    ["tsunami takes the command's default delay", { type: "Tsunami" }, {
      test_type: "TSUNAMI",
      test_message_delay: 10,
    }],
    ["every flag", {
      type: "avalanche",
      count: "0",
      rate: "250.5",
      duration: "2.5",
      connections: "4",
      timeout: "500",
      drivers: " one, two ,",
      method: "post",
      header: ["X-A: b c", "Accept:text/plain"],
      body: "{}",
    }, {
      message_count_per_driver: 0,
      target_throughput: 250.5,
      duration_s: 2.5,
      connections: 4,
      timeout_ms: 500,
      drivers: ["one", "two"],
      method: "POST",
      headers: { "X-A": "b c", Accept: "text/plain" },
      body: "{}",
    }],
  ];
  for (const [name, values, want] of table) {
    const params = testParamsFromFlags(values, target(URL), LOADTEST);
    for (const [key, value] of Object.entries(want)) {
      assert.deepEqual(params[key as keyof typeof params], value, `${name}: ${key}`);
    }
    assert.equal(testConfigSchema.safeParse({ test_id: "t", ...params }).success, true, name);
  }
});

Deno.test("testParamsFromFlags() holds flags to the REST API's rules, naming the flags", () => {
  const table: [TestFlagValues, string | undefined, string[]][] = [
    [{}, undefined, ["--target is required"]],
    [{}, "ftp://x", ['--target must be an absolute http:// or https:// URL, got "ftp://x"']],
    [{ type: "flood" }, URL, ['--type must be avalanche or tsunami, got "flood"']],
    [{ count: "x" }, URL, ['--count must be a number, got "x"']],
    [{ count: "-1" }, URL, ["--count must be at least 0, got -1"]],
    [{ count: "0" }, URL, [
      "--count must be > 0 unless --duration is set (the test would never end)",
    ]],
    [{ delay: "5" }, URL, ["--delay must be 0 for an AVALANCHE test (use --rate to pace it)"]],
    [{ type: "tsunami", delay: "0" }, URL, ["--delay must be > 0 ms for a TSUNAMI test"]],
    [{ type: "tsunami", rate: "5" }, URL, [
      "--rate is for AVALANCHE tests; a TSUNAMI test is paced by --delay",
    ]],
    [{ connections: "2.5" }, URL, ["--connections must be a whole number, got 2.5"]],
    [{ timeout: "600001" }, URL, ["--timeout must be at most 600000, got 600001"]],
    [{ duration: "0" }, URL, ["--duration must be greater than 0, got 0"]],
    [{ drivers: ",," }, URL, [
      '--drivers must be a comma-separated list of driver names, got ",,"',
    ]],
    [{ drivers: "one,bad id!" }, URL, [
      '--drivers must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got "bad id!"',
    ]],
    [{ method: "BREW" }, URL, [
      '--method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, got "BREW"',
    ]],
    [{ header: ["nocolon"] }, URL, ['--header must look like "Name: value", got "nocolon"']],
    [{ header: ["X A: b"] }, URL, ['--header must be a valid header name, got "X A"']],
  ];
  for (const [values, url, problems] of table) {
    assert.throws(
      () => testParamsFromFlags(values, target(url), LOADTEST),
      { name: "UsageError", problems },
      JSON.stringify(values),
    );
  }
});

Deno.test("testParamsFromFlags() reports every problem of a command line at once", () => {
  const bad = { type: "tsunami", rate: "5", connections: "0", timeout: "1e9" };
  const fields = [
    '--target must be an absolute http:// or https:// URL, got "ftp://x"',
    "--connections must be greater than 0, got 0",
    "--timeout must be at most 600000, got 1000000000",
  ];
  const table: [TestFlagValues, string[]][] = [
    [bad, [...fields, "--rate is for AVALANCHE tests; a TSUNAMI test is paced by --delay"]],
    // A text that is no value at all holds back the rules between fields, as in REST.
    [{ ...bad, method: "brew" }, [
      ...fields,
      '--method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, got "brew"',
    ]],
  ];
  for (const [values, problems] of table) {
    assert.throws(() => testParamsFromFlags(values, target("ftp://x"), LOADTEST), {
      name: "UsageError",
      problems,
    });
  }
});

Deno.test("testParamsFromFlags(): a local run bounds a test without --count by its duration", () => {
  const local: TestFlagDefaults = { count: "0", duration: "10" };
  const url = { name: "--local", value: URL };
  const bounded = testParamsFromFlags({}, url, local);
  assert.deepEqual([bounded.message_count_per_driver, bounded.duration_s], [0, 10]);
  const counted = testParamsFromFlags({ count: "50" }, url, local);
  assert.deepEqual([counted.message_count_per_driver, counted.duration_s], [50, null]);
  assert.throws(
    () => testParamsFromFlags({ type: "tsunami" }, { name: "--local", value: "x" }, local),
    {
      name: "UsageError",
      problems: [
        '--local must be an absolute http:// or https:// URL, got "x"',
        "--delay must be > 0 ms for a TSUNAMI test",
      ],
    },
  );
});
