import assert from "node:assert/strict";
import { parseCliArgs } from "../../cli/config.ts";
import { THRESHOLD_METRICS } from "../../cli/threshold.ts";
import { HELP } from "../../shared/usage_error.ts";

const O = "http://127.0.0.1:8000";
const PING = "http://127.0.0.1:8080/ping";

Deno.test("parseCliArgs() builds an avalanche test with defaults", () => {
  assert.deepEqual(parseCliArgs({}, ["--target", PING]), {
    kind: "run",
    orchestrator: O,
    params: {
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: 1000,
      target_url: PING,
      target_throughput: null,
      duration_s: null,
      connections: 10,
      timeout_ms: 10000,
      method: "GET",
    },
    thresholds: [],
    json: false,
  });
});

Deno.test("parseCliArgs() reads every test option", () => {
  const cmd = parseCliArgs({}, [
    "--target=http://127.0.0.1:9/x",
    "--type",
    "TSUNAMI",
    "--count",
    "50",
    "--delay",
    "2.5",
    "--duration",
    "3",
    "--connections",
    "4",
    "--timeout",
    "800",
    "--drivers",
    "one, two",
    "--threshold",
    "p99<1s",
    "--threshold",
    "error_rate<1%",
    "--json",
    "--orchestrator",
    "http://127.0.0.1:8123/",
  ]);
  assert.ok("kind" in cmd && cmd.kind === "run");
  assert.equal(cmd.orchestrator, "http://127.0.0.1:8123");
  assert.deepEqual(cmd.params, {
    test_type: "TSUNAMI",
    test_message_delay: 2.5,
    message_count_per_driver: 50,
    target_url: "http://127.0.0.1:9/x",
    target_throughput: null,
    duration_s: 3,
    connections: 4,
    timeout_ms: 800,
    drivers: ["one", "two"],
    method: "GET",
  });
  assert.deepEqual(cmd.thresholds.map((t) => t.metric), ["p99", "error_rate"]);
  assert.equal(cmd.json, true);
  const paced = parseCliArgs({}, [
    "--target",
    PING,
    "--rate",
    "250",
    "--count",
    "0",
    "--duration",
    "5",
  ]);
  assert.ok("kind" in paced && paced.kind === "run");
  assert.deepEqual(
    [
      paced.params.target_throughput,
      paced.params.message_count_per_driver,
      paced.params.duration_s,
    ],
    [250, 0, 5],
  );
});

Deno.test("parseCliArgs() reads the subcommands, each with its own flags", () => {
  const table: [Record<string, string>, string[], unknown][] = [
    [{}, ["list", "--json"], { kind: "list", orchestrator: O, json: true }],
    [{ SURGE_ORCHESTRATOR: "http://127.0.0.1:9999" }, ["list"], {
      kind: "list",
      orchestrator: "http://127.0.0.1:9999",
      json: false,
    }],
    [{}, ["show", "t-1"], { kind: "show", orchestrator: O, testId: "t-1", json: false }],
    [{}, ["stop", "t-1", "--json"], { kind: "stop", orchestrator: O, testId: "t-1", json: true }],
    [{}, ["delete", "t-1"], { kind: "delete", orchestrator: O, testId: "t-1", json: false }],
    [{}, ["report", "t-1"], {
      kind: "report",
      orchestrator: O,
      testId: "t-1",
      format: "json",
      out: undefined,
    }],
    [
      {},
      ["report", "t-1", "--format", "html", "--out", "r.html"],
      { kind: "report", orchestrator: O, testId: "t-1", format: "html", out: "r.html" },
    ],
    [{}, ["-h"], HELP],
    [{}, ["frobnicate", "--bogus", "--help"], HELP],
  ];
  for (const [env, args, want] of table) {
    assert.deepEqual(parseCliArgs(env, args), want, args.join(" "));
  }
});

Deno.test("parseCliArgs() rejects bad usage with a message naming each problem", () => {
  const run = ["--target", "http://127.0.0.1/"];
  const table: [Record<string, string>, string[], string[]][] = [
    [{}, [], ["--target is required"]],
    [{}, ["--target", "ftp://x"], [
      '--target must be an absolute http:// or https:// URL, got "ftp://x"',
    ]],
    [{}, [...run, "--bogus"], ["Unknown option '--bogus'"]],
    [{}, [...run, "--type", "flood"], ['--type must be avalanche or tsunami, got "flood"']],
    [{}, [...run, "--count=-1"], ["--count must be at least 0, got -1"]],
    [{}, [...run, "--count", "0"], [
      "--count must be > 0 unless --duration is set (the test would never end)",
    ]],
    [{}, [...run, "--delay", "5"], [
      "--delay must be 0 for an AVALANCHE test (use --rate to pace it)",
    ]],
    [{}, [...run, "--type", "tsunami", "--rate", "5"], [
      "--rate is for AVALANCHE tests; a TSUNAMI test is paced by --delay",
    ]],
    [{}, [...run, "--connections", "0"], ["--connections must be greater than 0, got 0"]],
    [{}, [...run, "--drivers", ",,"], [
      '--drivers must be a comma-separated list of driver names, got ",,"',
    ]],
    [{}, [...run, "--threshold", "p99<<1"], [
      'Cannot parse threshold "p99<<1": expected METRIC OP VALUE, e.g. "p99<250ms", "p95<=1s", "error_rate<1%", "rps>1000"',
    ]],
    [{}, [...run, "--orchestrator", "nope"], [
      '--orchestrator must be an absolute http:// or https:// URL, got "nope"',
    ]],
    [{ SURGE_ORCHESTRATOR: "nope" }, ["list"], [
      'SURGE_ORCHESTRATOR must be an absolute http:// or https:// URL, got "nope"',
    ]],
    [{}, ["frobnicate"], [
      'Unknown command "frobnicate" (known: list, show, stop, delete, report; or --target URL to run a test)',
    ]],
    [{}, ["list", "x"], ["`list` takes no arguments"]],
    [{}, ["show"], ["`show` takes exactly one test id"]],
    [{}, ["stop", "a", "b"], ["`stop` takes exactly one test id"]],
    [{}, ["delete"], ["`delete` takes exactly one test id"]],
    [{}, ["report", "t", "--format", "pdf"], [
      '--format must be one of json, csv, html, got "pdf"',
    ]],
    [{}, ["report", "t", "--json"], ["--json does not apply to `report` (use --format json)"]],
    [{}, ["list", "--target", "http://127.0.0.1/", "--count", "3", "--out", "f"], [
      "--target only applies when running a test",
      "--count only applies when running a test",
      "--out only applies to `report`",
    ]],
    [{}, [...run, "--format", "csv"], ["--format only applies to `report`"]],
  ];
  for (const [env, args, problems] of table) {
    assert.throws(() => parseCliArgs(env, args), { name: "UsageError", problems }, args.join(" "));
  }
});

Deno.test("parseCliArgs() reports every problem of a test run at once", () => {
  assert.throws(
    () =>
      parseCliArgs({}, [
        "--target",
        "ftp://x",
        "--count",
        "x",
        "--timeout",
        "0",
        "--threshold",
        "zz>1",
        "--orchestrator",
        "nope",
        "--out",
        "f",
        "--wat",
      ]),
    {
      name: "UsageError",
      problems: [
        "Unknown option '--wat'",
        "--out only applies to `report`",
        '--orchestrator must be an absolute http:// or https:// URL, got "nope"',
        '--count must be a number, got "x"',
        '--target must be an absolute http:// or https:// URL, got "ftp://x"',
        "--timeout must be greater than 0, got 0",
        `Cannot parse threshold "zz>1": unknown metric "zz" (known: ${
          THRESHOLD_METRICS.join(", ")
        })`,
      ],
    },
  );
});
