import assert from "node:assert/strict";
import { parseCliArgs } from "../../cli/config.ts";

Deno.test("parseCliArgs() builds an avalanche test with defaults", () => {
  const cmd = parseCliArgs(["--target", "http://127.0.0.1:8080/ping"]);
  assert.equal(cmd.kind, "run");
  if (cmd.kind !== "run") return;
  assert.equal(cmd.orchestrator, "http://127.0.0.1:8000");
  assert.deepEqual(cmd.params, {
    test_type: "AVALANCHE",
    test_message_delay: 0,
    message_count_per_driver: 1000,
    target_url: "http://127.0.0.1:8080/ping",
    target_throughput: null,
    duration_s: null,
    connections: 10,
    timeout_ms: 10000,
    method: "GET",
  });
  assert.equal(cmd.json, false);
  assert.deepEqual(cmd.thresholds, []);
});

Deno.test("parseCliArgs() reads every test option", () => {
  const cmd = parseCliArgs([
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
  assert.equal(cmd.kind, "run");
  if (cmd.kind !== "run") return;
  assert.equal(cmd.orchestrator, "http://127.0.0.1:8123");
  assert.equal(cmd.params.test_type, "TSUNAMI");
  assert.equal(cmd.params.test_message_delay, 2.5);
  assert.equal(cmd.params.message_count_per_driver, 50);
  assert.equal(cmd.params.duration_s, 3);
  assert.equal(cmd.params.connections, 4);
  assert.deepEqual(cmd.params.drivers, ["one", "two"]);
  assert.deepEqual(cmd.thresholds.map((t) => t.metric), ["p99", "error_rate"]);
  assert.equal(cmd.json, true);
});

Deno.test("parseCliArgs() takes the orchestrator from SURGE_ORCHESTRATOR", () => {
  const cmd = parseCliArgs(["list"], { SURGE_ORCHESTRATOR: "http://127.0.0.1:9999" });
  assert.deepEqual(cmd, { kind: "list", orchestrator: "http://127.0.0.1:9999", json: false });
});

Deno.test("parseCliArgs() reads the subcommands", () => {
  const o = "http://127.0.0.1:8000";
  const table: [string[], unknown][] = [
    [["list", "--json"], { kind: "list", orchestrator: o, json: true }],
    [["show", "t-1"], { kind: "show", orchestrator: o, testId: "t-1", json: false }],
    [["stop", "t-1"], { kind: "stop", orchestrator: o, testId: "t-1", json: false }],
    [["report", "t-1"], {
      kind: "report",
      orchestrator: o,
      testId: "t-1",
      format: "json",
      out: undefined,
    }],
    [
      ["report", "t-1", "--format", "html", "--out", "r.html"],
      { kind: "report", orchestrator: o, testId: "t-1", format: "html", out: "r.html" },
    ],
    [["-h"], { kind: "help" }],
  ];
  for (const [args, expected] of table) {
    assert.deepEqual(parseCliArgs(args), expected, args.join(" "));
  }
});

Deno.test("parseCliArgs() rejects bad usage with a message naming each problem", () => {
  const table: [string[], RegExp[]][] = [
    [[], [/--target URL is required/]],
    [["--target", "ftp://x"], [/--target must be an absolute http/]],
    [["--bogus"], [/Unknown option '--bogus'/]],
    [["--target", "http://127.0.0.1/", "--type", "flood"], [/--type must be avalanche or tsunami/]],
    [["--target", "http://127.0.0.1/", "--count=-1"], [/--count must be a whole number/]],
    [["--target", "http://127.0.0.1/", "--count", "0"], [/needs --duration/]],
    [["--target", "http://127.0.0.1/", "--delay", "5"], [/--delay is for tsunami/]],
    [["--target", "http://127.0.0.1/", "--type", "tsunami", "--rate", "5"], [
      /--rate is for avalanche/,
    ]],
    [["--target", "http://127.0.0.1/", "--connections", "0"], [/--connections must be/]],
    [["--target", "http://127.0.0.1/", "--drivers", ",,"], [/--drivers must be/]],
    [["--target", "http://127.0.0.1/", "--threshold", "p99<<1"], [
      /Cannot parse threshold "p99<<1"/,
    ]],
    [
      ["--target", "http://127.0.0.1/", "--count", "x", "--threshold", "zz>1"],
      [/--count must be/, /unknown metric "zz"/],
    ],
    [["frobnicate"], [/Unknown command "frobnicate"/]],
    [["show"], [/takes exactly one test id/]],
    [["show", "a", "b"], [/takes exactly one test id/]],
    [["report", "t", "--format", "pdf"], [/--format must be json, csv or html/]],
    [["list", "--target", "http://127.0.0.1/"], [/only apply when running a test/]],
    [["--target", "http://127.0.0.1/", "--orchestrator", "nope"], [/--orchestrator must be/]],
  ];
  for (const [args, patterns] of table) {
    assert.throws(() => parseCliArgs(args), (err: Error) => {
      assert.ok(err instanceof RangeError, args.join(" "));
      for (const p of patterns) assert.match(err.message, p, `${args.join(" ")}: ${err.message}`);
      return true;
    });
  }
});
