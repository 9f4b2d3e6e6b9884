import assert from "node:assert/strict";
import { parseDriverConfig } from "../../driver/config.ts";
import { parseTargetPolicy } from "../../driver/target_policy.ts";
import { FleetKey } from "../../shared/fleet_key.ts";
import { HELP } from "../../shared/usage_error.ts";

Deno.test("parseDriverConfig() reads a driver node's flags and env", () => {
  const node = {
    mode: "node",
    nodeId: "two",
    brokers: ["127.0.0.1:9092"],
    topicPrefix: "",
    access: {},
    workers: 4,
    heartbeatMs: 1000,
    reportMs: 500,
    logLevel: "info",
    targets: { rules: [] },
  };
  const table: [Record<string, string>, string[], number, unknown][] = [
    [{}, ["two"], 4, node],
    [{}, ["two"], 0, { ...node, workers: 1 }],
    [{}, ["two"], 4096, { ...node, workers: 1024 }],
    [
      {
        KAFKA_BROKERS: "10.0.0.1:9092,10.0.0.2:9092",
        SURGE_TOPIC_PREFIX: "x.",
        LOG_LEVEL: "debug",
      },
      ["one", "--workers", "3", "--heartbeat-ms", "500", "--report-ms", "250"],
      8,
      {
        ...node,
        nodeId: "one",
        brokers: ["10.0.0.1:9092", "10.0.0.2:9092"],
        topicPrefix: "x.",
        workers: 3,
        heartbeatMs: 500,
        reportMs: 250,
        logLevel: "debug",
      },
    ],
    // Flags win over the variable; an empty variable is no key.
    [
      { SURGE_ALLOW_TARGETS: "10.0.0.0/8, *.example.com:443", SURGE_FLEET_KEY: "" },
      ["two"],
      4,
      { ...node, targets: parseTargetPolicy(["10.0.0.0/8", "*.example.com:443"]) },
    ],
    [
      { SURGE_ALLOW_TARGETS: "10.0.0.0/8" },
      ["two", "--allow-target", "127.0.0.1:8080", "--allow-target=::1"],
      4,
      { ...node, targets: parseTargetPolicy(["127.0.0.1:8080", "::1"]) },
    ],
    [
      {
        KAFKA_SASL_MECHANISM: "scram-sha-512",
        KAFKA_SASL_USERNAME: "driver",
        KAFKA_SASL_PASSWORD_FILE: "/pw",
      },
      ["two"],
      4,
      {
        ...node,
        access: {
          sasl: { mechanism: "scram-sha-512", username: "driver", password: { file: "/pw" } },
        },
      },
    ],
    // The address to register: the flag wins over the variable, in canonical form; blank is unset.
    [{ SURGE_ADVERTISE_IP: "10.0.0.7" }, ["two"], 4, { ...node, advertiseIp: "10.0.0.7" }],
    [
      { SURGE_ADVERTISE_IP: "10.0.0.7" },
      ["two", "--advertise-ip", "[FD00:0:0::0005]"],
      4,
      { ...node, advertiseIp: "fd00::5" },
    ],
    [{}, ["two", "--advertise-ip=::ffff:198.18.0.77"], 4, { ...node, advertiseIp: "198.18.0.77" }],
    [{ SURGE_ADVERTISE_IP: " " }, ["two"], 4, node],
    // --help is answered before anything is checked.
    [{ KAFKA_BROKERS: "bad" }, ["--help", "bad id!"], 2, HELP],
  ];
  for (const [env, args, cores, want] of table) {
    assert.deepEqual(parseDriverConfig(env, args, cores), want, args.join(" "));
  }
});

Deno.test("parseDriverConfig() turns local flags into a LoadSpec", () => {
  const spec = {
    url: "http://127.0.0.1:8080/ping",
    method: "GET",
    connections: 10,
    count: 0,
    durationMs: 10_000,
    intervalMs: 0,
    timeoutMs: 10_000,
  };
  const table: [string[], object][] = [
    [[], spec],
    [["--count", "5000"], { ...spec, count: 5000, durationMs: null }],
    [["--rate", "4000", "--duration", "2.5"], { ...spec, intervalMs: 0.25, durationMs: 2500 }],
    [["--type", "TSUNAMI", "--delay", "1.5", "--count", "9"], {
      ...spec,
      intervalMs: 1.5,
      count: 9,
      durationMs: null,
    }],
    [["--method", "post", "--header", "X-A: b c", "--body", "{}", "--timeout", "500"], {
      ...spec,
      method: "POST",
      headers: { "X-A": "b c" },
      body: "{}",
      timeoutMs: 500,
    }],
  ];
  for (const [args, want] of table) {
    const c = parseDriverConfig({}, ["--local", spec.url, ...args, "--json"], 2);
    assert.ok("mode" in c && c.mode === "local", args.join(" "));
    assert.deepEqual(c.spec, want, args.join(" "));
    assert.deepEqual([c.workers, c.reportMs, c.json], [2, 500, true]);
    assert.deepEqual(c.targets, { rules: [] });
  }
  const fenced = parseDriverConfig({}, ["--local", spec.url, "--allow-target", "127.0.0.1"], 2);
  assert.deepEqual("targets" in fenced && fenced.targets, parseTargetPolicy(["127.0.0.1"]));
});

Deno.test("parseDriverConfig() takes a fleet key of 32 characters or more from SURGE_FLEET_KEY", () => {
  const secret = "a-fleet-key-of-thirty-two-chars!";
  const node = parseDriverConfig({ SURGE_FLEET_KEY: secret }, ["one"], 2);
  assert.ok("fleetKey" in node && node.fleetKey instanceof FleetKey);
  assert.throws(() => parseDriverConfig({ SURGE_FLEET_KEY: secret.slice(1) }, ["one"], 2), {
    name: "UsageError",
    problems: [
      "SURGE_FLEET_KEY must be at least 32 characters (it has 31); make one with " +
      "`openssl rand -base64 32`",
    ],
  });
  // A local run signs and checks nothing: its key is not read.
  const local = parseDriverConfig({ SURGE_FLEET_KEY: "short" }, ["--local", "http://a/"], 2);
  assert.ok(!("fleetKey" in local));
});

Deno.test("parseDriverConfig() reports every problem at once", () => {
  const table: [Record<string, string>, string[], string[]][] = [
    [{}, [], ["<node_id> (or --local <url>) is required"]],
    [{ KAFKA_BROKERS: "nope", LOG_LEVEL: "loud" }, ["bad id!", "extra", "--connections", "3"], [
      "--connections is only for --local mode",
      "Unexpected argument 'extra'",
      '<node_id> must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got "bad id!"',
      'KAFKA_BROKERS has an invalid entry "nope": expected host:port with a port 1-65535',
      'LOG_LEVEL must be debug, info, warn or error, got "loud"',
    ]],
    [{ SURGE_TOPIC_PREFIX: "a b" }, ["one", "--heartbeat-ms", "5", "--workers", "0"], [
      '--workers must be a whole number from 1 to 1024, got "0"',
      'SURGE_TOPIC_PREFIX is not usable: Invalid topic prefix "a b": use at most 100 of A-Z a-z 0-9 . _ -',
      '--heartbeat-ms must be a whole number from 100 to 3600000, got "5"',
    ]],
    [{}, ["--local", "ftp://x", "--type", "x", "--count", "0", "--workers", "0", "one"], [
      "Unexpected argument 'one' in --local mode",
      '--workers must be a whole number from 1 to 1024, got "0"',
      '--type must be avalanche or tsunami, got "x"',
      '--local must be an absolute http:// or https:// URL, got "ftp://x"',
    ]],
    [{}, ["--local", "http://a/", "--type", "tsunami", "--rate", "5", "--heartbeat-ms", "1"], [
      "--heartbeat-ms is for driver nodes",
      "--delay must be > 0 ms for a TSUNAMI test",
      "--rate is for AVALANCHE tests; a TSUNAMI test is paced by --delay",
    ]],
    [{}, ["--local", "http://a/", "--delay", "5", "--rate=-1", "--header", "nocolon"], [
      "--rate must be greater than 0, got -1",
      '--header must look like "Name: value", got "nocolon"',
    ]],
    [{}, ["--local", "http://a/", "--duration", "0", "--timeout", "x", "--method", "BREW"], [
      "--duration must be greater than 0, got 0",
      '--timeout must be a number, got "x"',
      '--method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, got "BREW"',
    ]],
    [{ SURGE_ALLOW_TARGETS: "10.0.0.1/8 ok.example" }, ["one"], [
      'SURGE_ALLOW_TARGETS "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)',
    ]],
    [{}, ["--local", "http://a/", "--allow-target", "x:0", "--allow-target", "a..b"], [
      '--allow-target "x:0" has a bad port "0": expected N or N-M, 1-65535',
      '--allow-target "a..b" is not a host name, an address or a network',
    ]],
    [{}, ["one", "--advertise-ip", "10.0.0.256"], [
      '--advertise-ip must be an IPv4 or IPv6 address (e.g. 10.0.0.5 or fd00::5, no zone), got "10.0.0.256"',
    ]],
    [{ SURGE_ADVERTISE_IP: "driver-1.example" }, ["one"], [
      'SURGE_ADVERTISE_IP must be an IPv4 or IPv6 address (e.g. 10.0.0.5 or fd00::5, no zone), got "driver-1.example"',
    ]],
    [{}, ["one", "--advertise-ip", "fe80::1%eth0"], [
      '--advertise-ip must be an IPv4 or IPv6 address (e.g. 10.0.0.5 or fd00::5, no zone), got "fe80::1%eth0"',
    ]],
    [{}, ["one", "--advertise-ip", "0.0.0.0"], [
      '--advertise-ip must be an address other hosts can reach, not the unspecified address, got "0.0.0.0"',
    ]],
    [{}, ["--local", "http://a/", "--advertise-ip", "10.0.0.1"], [
      "--advertise-ip is for driver nodes",
    ]],
    [{}, ["--bogus", "--local"], [
      "Unknown option '--bogus'",
      "--local needs a value",
      "<node_id> (or --local <url>) is required",
    ]],
  ];
  for (const [env, args, problems] of table) {
    assert.throws(() => parseDriverConfig(env, args, 2), { name: "UsageError", problems });
  }
});
