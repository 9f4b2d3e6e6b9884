import assert from "node:assert/strict";
import { HELP } from "../../shared/usage_error.ts";
import { parseUpConfig } from "../../up/config.ts";

Deno.test("parseUpConfig() has the documented defaults and reads flags and env", () => {
  const defaults = {
    drivers: 2,
    brokers: 1,
    demo: false,
    orchestratorPort: 8000,
    targetPort: 8080,
    kafkaPort: 9092,
    topicPrefix: "",
  };
  const table: [Record<string, string>, string[], unknown][] = [
    [{}, [], defaults],
    // An empty KAFKA_BROKERS counts as unset: up starts a broker of its own.
    [{ KAFKA_BROKERS: "", KAFKA_PORT: "9300" }, [], { ...defaults, kafkaPort: 9300 }],
    [
      { KAFKA_BROKERS: "127.0.0.1:29092", SURGE_TOPIC_PREFIX: "p." },
      ["--drivers", "3", "--demo", "--port", "9000", "--workers", "1", "--data-dir", "/d"],
      {
        ...defaults,
        drivers: 3,
        demo: true,
        orchestratorPort: 9000,
        workers: 1,
        externalBrokers: ["127.0.0.1:29092"],
        topicPrefix: "p.",
        dataDir: "/d",
      },
    ],
    // With a cluster named, the local broker's ports cannot collide with anything.
    [{ KAFKA_BROKERS: "k:9092" }, ["--kafka-port", "8000"], {
      ...defaults,
      kafkaPort: 8000,
      externalBrokers: ["k:9092"],
    }],
    // Access settings are checked here and reach the children through their environment.
    [
      {
        KAFKA_BROKERS: "k:9092",
        KAFKA_SSL: "1",
        KAFKA_SASL_MECHANISM: "plain",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD: "p",
      },
      [],
      {
        ...defaults,
        externalBrokers: ["k:9092"],
      },
    ],
    [{}, ["--brokers", "3", "--drivers", "9"], { ...defaults, brokers: 3, drivers: 9 }],
    [{}, ["--drivers", "zero", "-h"], HELP],
  ];
  for (const [env, args, want] of table) {
    assert.deepEqual(parseUpConfig(env, args), want, args.join(" "));
  }
});

Deno.test("parseUpConfig() rejects bad flags with a clear message", () => {
  const table: [Record<string, string>, string[], string[]][] = [
    [{}, ["--drivers", "0"], ['--drivers must be a whole number from 1 to 20, got "0"']],
    [{}, ["--drivers", "x"], ['--drivers must be a whole number from 1 to 20, got "x"']],
    [{}, ["--port", "70000"], ['--port must be a port number 1-65535, got "70000"']],
    [{}, ["--frobnicate"], ["Unknown option '--frobnicate'"]],
    [{}, ["extra"], ["Unexpected argument 'extra'"]],
    [{}, ["--port", "8080"], ["--port and --target-port are both 8080"]],
    [{}, ["--kafka-port", "8000"], ["--port and --kafka-port are both 8000"]],
    [{}, ["--kafka-port", "8079"], ["--target-port and --kafka-port + 1 are both 8080"]],
    // Three nodes take 9092-9097: clients on 9092, 9094, 9096, controllers on the ports after.
    [{}, ["--brokers", "3", "--target-port", "9097"], [
      "--target-port and --kafka-port + 5 are both 9097",
    ]],
    [{}, ["--brokers", "6"], ['--brokers must be a whole number from 1 to 5, got "6"']],
    [{ KAFKA_BROKERS: "k:9092" }, ["--brokers", "3"], [
      "--brokers starts Kafka nodes, but KAFKA_BROKERS names a cluster to use instead",
    ]],
    [{ KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "u" }, [], [
      "KAFKA_SASL_MECHANISM=scram-sha-512 needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE",
    ]],
    [{ KAFKA_SSL: "1" }, [], [
      "KAFKA_SSL and KAFKA_SASL settings need KAFKA_BROKERS: the broker up starts is plaintext (start a SASL one with `deno task kafka --sasl` and set KAFKA_BROKERS)",
    ]],
    [{ KAFKA_BROKERS: "nope", SURGE_TOPIC_PREFIX: "a b" }, ["--workers", "300", "--drivers=21"], [
      '--drivers must be a whole number from 1 to 20, got "21"',
      '--workers must be a whole number from 1 to 256, got "300"',
      'KAFKA_BROKERS has an invalid entry "nope": expected host:port with a port 1-65535',
      'SURGE_TOPIC_PREFIX is not usable: Invalid topic prefix "a b": use at most 100 of A-Z a-z 0-9 . _ -',
    ]],
  ];
  for (const [env, args, problems] of table) {
    assert.throws(() => parseUpConfig(env, args), { name: "UsageError", problems }, args.join(" "));
  }
});
