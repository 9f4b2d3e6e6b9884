import assert from "node:assert/strict";
import { parseDriverConfig } from "../../driver/config.ts";

Deno.test("parseDriverConfig() reads a driver node's flags and env", () => {
  const c = parseDriverConfig(
    { KAFKA_BROKERS: "10.0.0.1:9092,10.0.0.2:9092", SURGE_TOPIC_PREFIX: "x.", LOG_LEVEL: "debug" },
    ["one", "--workers", "3", "--heartbeat-ms", "500", "--report-ms", "250"],
    8,
  );
  assert.deepEqual(c, {
    mode: "node",
    nodeId: "one",
    brokers: ["10.0.0.1:9092", "10.0.0.2:9092"],
    topicPrefix: "x.",
    workers: 3,
    heartbeatMs: 500,
    reportMs: 250,
    logLevel: "debug",
  });
  const d = parseDriverConfig({}, ["two"], 4);
  assert.equal(d.mode === "node" && d.workers, 4);
  assert.equal(d.mode === "node" && d.brokers[0], "127.0.0.1:9092");
});

Deno.test("parseDriverConfig() turns local flags into a LoadSpec", () => {
  const table: [string[], Record<string, unknown>][] = [
    [["--local", "http://127.0.0.1:8080/ping"], {
      count: 0,
      durationMs: 10_000,
      intervalMs: 0,
      connections: 10,
      timeoutMs: 10_000,
    }],
    [["--local", "http://127.0.0.1/p", "--count", "5000"], { count: 5000, durationMs: null }],
    [["--local", "http://127.0.0.1/p", "--rate", "4000", "--duration", "2.5"], {
      intervalMs: 0.25,
      durationMs: 2500,
    }],
    [["--local", "http://127.0.0.1/p", "--type", "TSUNAMI", "--delay", "1.5", "--count", "9"], {
      intervalMs: 1.5,
      count: 9,
    }],
    [["--local", "https://a/p", "--method", "post", "--header", "X-A: b c", "--body", "{}"], {
      method: "POST",
      headers: { "X-A": "b c" },
      body: "{}",
    }],
  ];
  for (const [args, want] of table) {
    const c = parseDriverConfig({}, args, 2);
    assert.equal(c.mode, "local", args.join(" "));
    if (c.mode !== "local") continue;
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual((c.spec as unknown as Record<string, unknown>)[k], v, `${args}: ${k}`);
    }
  }
});

Deno.test("parseDriverConfig() reports every problem at once", () => {
  const table: [Record<string, string>, string[], RegExp[]][] = [
    [{}, [], [/missing <node_id>/]],
    [{ KAFKA_BROKERS: "nope" }, ["bad id!", "extra", "--connections", "3"], [
      /node id "bad id!"/,
      /unexpected argument "extra"/,
      /--connections is only for --local/,
      /Invalid Kafka broker "nope"/,
    ]],
    [{ SURGE_TOPIC_PREFIX: "a b" }, ["one", "--heartbeat-ms", "5"], [
      /SURGE_TOPIC_PREFIX/,
      /--heartbeat-ms/,
    ]],
    [{}, ["--local", "ftp://x", "--type", "x", "--count", "0", "--workers", "0"], [
      /--local "ftp:\/\/x"/,
      /--type must be/,
      /--count/,
      /--workers/,
    ]],
    [{}, ["--local", "http://a/", "--type", "tsunami", "--rate", "5"], [
      /needs --delay/,
      /--rate is for avalanche/,
    ]],
    [{}, ["--local", "http://a/", "--delay", "5", "--rate=-1", "--header", "nocolon"], [
      /--delay is for --type tsunami/,
      /--rate must be/,
      /--header "nocolon"/,
    ]],
    [{}, ["--local", "http://a/", "--duration", "0", "--timeout", "x", "--method", "BREW"], [
      /--duration/,
      /--timeout/,
      /--method/,
    ]],
    [{}, ["--bogus"], [/Unknown option '--bogus'/]],
  ];
  for (const [env, args, patterns] of table) {
    assert.throws(() => parseDriverConfig(env, args, 2), (err: unknown) => {
      assert.ok(err instanceof RangeError);
      for (const p of patterns) assert.match(err.message, p, `${args.join(" ")}`);
      return true;
    });
  }
});

Deno.test("parseDriverConfig() answers --help before anything else", () => {
  assert.deepEqual(parseDriverConfig({ KAFKA_BROKERS: "bad" }, ["--help"], 2), { mode: "help" });
});
