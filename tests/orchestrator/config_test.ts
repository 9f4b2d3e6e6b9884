import assert from "node:assert/strict";
import { parseEndConfig, parseOrchestratorConfig } from "../../orchestrator/config.ts";
import { FleetKey } from "../../shared/fleet_key.ts";
import { HELP } from "../../shared/usage_error.ts";

const SERVE = {
  port: 8000,
  host: "127.0.0.1",
  publicHosts: [],
  brokers: ["127.0.0.1:9092"],
  topicPrefix: "",
  access: {},
  dataDir: ".data/orchestrator",
  heartbeatMs: 1000,
  lostAfter: 3,
  retain: 1000,
  retainDays: 0,
  logLevel: "info",
  logJson: false,
};

Deno.test("parseOrchestratorConfig(): defaults, env, flags winning over env", () => {
  const table: [Record<string, string>, string[], unknown][] = [
    [{}, [], SERVE],
    [{ PORT: "9000", SURGE_DATA_DIR: "/env", LOG_LEVEL: "warn" }, ["--log-json"], {
      ...SERVE,
      port: 9000,
      dataDir: "/env",
      logLevel: "warn",
      logJson: true,
    }],
    [
      { PORT: "9000", SURGE_DATA_DIR: "/env", KAFKA_BROKERS: "a:1,b:2", SURGE_TOPIC_PREFIX: "x." },
      ["--port", "0", "--data-dir", "/flag", "--heartbeat-ms", "500", "--lost-after", "5"],
      {
        ...SERVE,
        port: 0,
        dataDir: "/flag",
        brokers: ["a:1", "b:2"],
        topicPrefix: "x.",
        heartbeatMs: 500,
        lostAfter: 5,
      },
    ],
    [{ KAFKA_SSL: "1", KAFKA_SSL_CA_FILE: "/ca.pem" }, [], {
      ...SERVE,
      access: { tls: { caFile: "/ca.pem", rejectUnauthorized: true } },
    }],
    [{ SURGE_RETAIN: "50", SURGE_RETAIN_DAYS: "30" }, [], {
      ...SERVE,
      retain: 50,
      retainDays: 30,
    }],
    [{ SURGE_RETAIN: "50", SURGE_RETAIN_DAYS: "30" }, ["--retain", "0", "--retain-days", "0.5"], {
      ...SERVE,
      retain: 0,
      retainDays: 0.5,
    }],
    [{ PORT: "http" }, ["--help"], HELP],
  ];
  for (const [env, args, want] of table) {
    assert.deepEqual(parseOrchestratorConfig(env, args), want, args.join(" "));
  }
  const keyed = parseOrchestratorConfig({ SURGE_FLEET_KEY: "k".repeat(44) }, []);
  assert.ok("fleetKey" in keyed && keyed.fleetKey instanceof FleetKey);
});

Deno.test("parseOrchestratorConfig() reports every problem at once", () => {
  const table: [Record<string, string>, string[], string[]][] = [
    [{ PORT: "http" }, [], ['PORT must be a whole number from 0 to 65535, got "http"']],
    [{ PORT: "x", SURGE_FLEET_KEY: "hunter2" }, [], [
      'PORT must be a whole number from 0 to 65535, got "x"',
      "SURGE_FLEET_KEY must be at least 32 characters (it has 7); make one with " +
      "`openssl rand -base64 32`",
    ]],
    [{ SURGE_RETAIN_DAYS: "-1" }, ["--retain", "many"], [
      '--retain must be a whole number from 0 to 1000000000, got "many"',
      'SURGE_RETAIN_DAYS must be a number from 0 to 36500, got "-1"',
    ]],
    [
      { KAFKA_BROKERS: "nope", SURGE_TOPIC_PREFIX: "bad/prefix", LOG_LEVEL: "loud" },
      ["--port", "70000", "--lost-after", "0", "--heartbeat-ms", "x", "--data-dir", " ", "--bogus"],
      [
        "Unknown option '--bogus'",
        '--port must be a whole number from 0 to 65535, got "70000"',
        'KAFKA_BROKERS has an invalid entry "nope": expected host:port with a port 1-65535',
        'SURGE_TOPIC_PREFIX is not usable: Invalid topic prefix "bad/prefix": use at most 100 of A-Z a-z 0-9 . _ -',
        '--data-dir must not be empty, got " "',
        '--heartbeat-ms must be a whole number from 100 to 3600000, got "x"',
        '--lost-after must be a whole number from 1 to 1000, got "0"',
        'LOG_LEVEL must be debug, info, warn or error, got "loud"',
      ],
    ],
  ];
  for (const [env, args, problems] of table) {
    assert.throws(() => parseOrchestratorConfig(env, args), { name: "UsageError", problems });
  }
});

const TOKEN = "0123456789abcdef0123";

Deno.test("parseOrchestratorConfig(): --host, --public-host and SURGE_API_TOKEN", () => {
  const table: [Record<string, string>, string[], unknown][] = [
    [{ SURGE_HOST: "::1" }, [], { ...SERVE, host: "::1" }],
    [{ SURGE_HOST: "0.0.0.0" }, ["--host", "[::1]"], { ...SERVE, host: "::1" }],
    [{ SURGE_HOST: "LOCALHOST", SURGE_API_TOKEN: " " }, [], { ...SERVE, host: "localhost" }],
    [{ SURGE_API_TOKEN: TOKEN }, [
      "--host",
      "0.0.0.0",
      "--public-host",
      "Surge.Example.com",
      "--public-host",
      "10.0.0.5:8000, [fd00::1]:80",
    ], {
      ...SERVE,
      host: "0.0.0.0",
      apiToken: TOKEN,
      publicHosts: [
        { name: "surge.example.com" },
        { name: "10.0.0.5", port: 8000 },
        { name: "fd00::1", port: 80 },
      ],
    }],
    [{ SURGE_PUBLIC_HOST: "a.example,b.example" }, [], {
      ...SERVE,
      publicHosts: [{ name: "a.example" }, { name: "b.example" }],
    }],
    [{ SURGE_PUBLIC_HOST: "a.example" }, ["--public-host", "c.example"], {
      ...SERVE,
      publicHosts: [{ name: "c.example" }],
    }],
  ];
  for (const [env, args, want] of table) {
    assert.deepEqual(parseOrchestratorConfig(env, args), want, JSON.stringify([env, args]));
  }
});

Deno.test("parseOrchestratorConfig() refuses a non-loopback bind without SURGE_API_TOKEN", () => {
  const table: [Record<string, string>, string[], string[]][] = [
    [{}, ["--host", "0.0.0.0"], [
      "--host 0.0.0.0 is not a loopback address: set SURGE_API_TOKEN (at least 16 characters) to " +
      "the token clients must send; surge serves nothing beyond this machine without one",
    ]],
    [{ SURGE_HOST: "192.168.1.10", SURGE_API_TOKEN: "" }, [], [
      "SURGE_HOST 192.168.1.10 is not a loopback address: set SURGE_API_TOKEN (at least 16 " +
      "characters) to the token clients must send; surge serves nothing beyond this machine " +
      "without one",
    ]],
    // A bad token is named without being repeated: it is a secret.
    [{ SURGE_API_TOKEN: "short" }, ["--host", "::"], [
      "SURGE_API_TOKEN must be at least 16 characters",
    ]],
    [{ SURGE_API_TOKEN: "sixteen chars or more" }, [], [
      "SURGE_API_TOKEN must be letters, digits and . _ ~ + / - only (then any =)",
    ]],
    [{}, ["--host", "127.0.0.1:80", "--public-host", "http://x.example/"], [
      '--host must be an IP address or a host name, without a port, got "127.0.0.1:80"',
      '--public-host has an invalid entry "http://x.example/": expected NAME[:PORT]',
    ]],
  ];
  for (const [env, args, problems] of table) {
    assert.throws(() => parseOrchestratorConfig(env, args), { name: "UsageError", problems });
  }
});

Deno.test("parseEndConfig(): the orchestrator's URL follows PORT; bad values are named", () => {
  const end = {
    orchestratorUrl: "http://127.0.0.1:8100",
    brokers: ["127.0.0.1:9092"],
    topicPrefix: "",
    access: {},
    timeoutMs: 15000,
  };
  assert.deepEqual(parseEndConfig({ PORT: "8100" }, []), end);
  assert.deepEqual(
    parseEndConfig({}, ["--orchestrator", "http://127.0.0.1:9/", "--timeout-ms", "500"]),
    { ...end, orchestratorUrl: "http://127.0.0.1:9", timeoutMs: 500 },
  );
  assert.deepEqual(parseEndConfig({}, ["-h"]), HELP);
  const signing = parseEndConfig({ SURGE_FLEET_KEY: "k".repeat(32) }, []);
  assert.ok("fleetKey" in signing && signing.fleetKey instanceof FleetKey);
  assert.throws(() => parseEndConfig({ SURGE_FLEET_KEY: "k" }, []), /SURGE_FLEET_KEY must be/);
  assert.throws(() => parseEndConfig({}, ["--orchestrator", "ftp://x", "--timeout-ms", "1", "x"]), {
    name: "UsageError",
    problems: [
      "Unexpected argument 'x'",
      '--orchestrator must be an absolute http:// or https:// URL, got "ftp://x"',
      '--timeout-ms must be a whole number from 100 to 600000, got "1"',
    ],
  });
});

Deno.test("parseEndConfig(): --driver names the drivers to end, repeated or comma-separated", () => {
  const base = parseEndConfig({}, []);
  assert.ok(!("help" in base));
  assert.equal(base.drivers, undefined, "no --driver: every driver");
  const table: [string[], string[]][] = [
    [["--driver", "three"], ["three"]],
    [["--driver", "a,b", "--driver=c", "--driver", " d , "], ["a", "b", "c", "d"]],
  ];
  for (const [args, drivers] of table) {
    assert.deepEqual(parseEndConfig({}, args), { ...base, drivers }, args.join(" "));
  }
  const bad: [string[], string[]][] = [
    [["--driver", "no way"], [
      '--driver must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got "no way"',
    ]],
    [["--driver", ","], ["--driver needs a driver name"]],
    [["--driver"], ["--driver needs a value"]],
  ];
  for (const [args, problems] of bad) {
    assert.throws(() => parseEndConfig({}, args), { name: "UsageError", problems }, args.join(" "));
  }
});
