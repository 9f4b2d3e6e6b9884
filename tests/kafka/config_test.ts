import assert from "node:assert/strict";
import { parseKafkaConfig } from "../../kafka/config.ts";
import { brokerProperties } from "../../kafka/broker_properties.ts";
import { randomClusterId } from "../../kafka/local_broker.ts";
import { HELP } from "../../shared/usage_error.ts";
import { localClusterLayout, singleNodeLayout } from "../../kafka/cluster_layout.ts";

Deno.test("parseKafkaConfig(): defaults, env, flags", () => {
  const defaults = {
    nodes: [singleNodeLayout(9092, 9093)],
    dataDir: undefined,
    wipe: false,
    fetchOnly: false,
    topicPrefix: "",
    external: undefined,
    access: {},
    sasl: undefined,
  };
  const pw = "correct-horse-battery";
  const table: [Record<string, string>, string[], unknown][] = [
    [{}, [], defaults],
    [{ KAFKA_PORT: "9200", SURGE_TOPIC_PREFIX: "me." }, ["--wipe"], {
      ...defaults,
      nodes: [singleNodeLayout(9200, 9201)],
      wipe: true,
      topicPrefix: "me.",
    }],
    [{ KAFKA_PORT: "9200", SURGE_TOPIC_PREFIX: "me." }, [
      "--port=9300",
      "--controller-port",
      "9400",
      "--prefix",
      "you.",
      "--fetch",
    ], {
      ...defaults,
      nodes: [singleNodeLayout(9300, 9400)],
      topicPrefix: "you.",
      fetchOnly: true,
    }],
    [{}, ["--nodes", "3", "--port", "9500", "--data-dir", "/d"], {
      ...defaults,
      nodes: localClusterLayout(9500, 3),
      dataDir: "/d",
    }],
    [{}, [
      "--node-id=2",
      "--listen=0.0.0.0:9092",
      "--advertise=h2.example:9092",
      "--controllers=1@h1.example:9093,2@h2.example:9093,3@h3.example:9093",
    ], {
      ...defaults,
      nodes: [{
        nodeId: 2,
        listen: { host: "0.0.0.0", port: 9092 },
        advertise: { host: "h2.example", port: 9092 },
        controller: { host: "0.0.0.0", port: 9093 },
        voters: [1, 2, 3].map((id) => ({ id, host: `h${id}.example`, port: 9093 })),
      }],
    }],
    [{ KAFKA_BROKERS: "127.0.0.1:1234" }, [], { ...defaults, external: ["127.0.0.1:1234"] }],
    // Blank counts as unset, as everywhere: start a local broker.
    [{ KAFKA_BROKERS: " " }, [], defaults],
    [{ KAFKA_BROKERS: "nope" }, ["--help"], HELP],
    [{}, ["--sasl"], { ...defaults, sasl: { passwords: {} } }],
    [{ SURGE_KAFKA_DRIVER_PASSWORD: pw, SURGE_KAFKA_ADMIN_PASSWORD: " " }, ["--sasl"], {
      ...defaults,
      sasl: { passwords: { driver: pw } },
    }],
    // With KAFKA_BROKERS, --sasl creates ACLs there as the KAFKA_SASL_* user.
    [
      {
        KAFKA_BROKERS: "10.0.0.1:9092",
        KAFKA_SASL_MECHANISM: "scram-sha-512",
        KAFKA_SASL_USERNAME: "admin",
        KAFKA_SASL_PASSWORD_FILE: "/pw",
      },
      ["--sasl"],
      {
        ...defaults,
        external: ["10.0.0.1:9092"],
        access: {
          sasl: { mechanism: "scram-sha-512", username: "admin", password: { file: "/pw" } },
        },
        sasl: { passwords: {} },
      },
    ],
  ];
  for (const [env, args, want] of table) {
    assert.deepEqual(parseKafkaConfig(env, args), want, `${JSON.stringify(env)} ${args}`);
  }
});

Deno.test("parseKafkaConfig() reports every problem at once", () => {
  const table: [Record<string, string>, string[], string[]][] = [
    [{ KAFKA_BROKERS: "nope" }, ["--port", "0", "--controller-port", "x", "--what"], [
      "Unknown option '--what'",
      '--port must be a port number 1-65535, got "0"',
      '--controller-port must be a port number 1-65535, got "x"',
      'KAFKA_BROKERS has an invalid entry "nope": expected host:port with a port 1-65535',
    ]],
    [{}, ["--port", "9100", "--controller-port", "9100"], [
      "--controller-port must differ from --port",
    ]],
    [{ SURGE_KAFKA_ORCHESTRATOR_PASSWORD: "short", KAFKA_SASL_USERNAME: "u" }, [], [
      "SURGE_KAFKA_ORCHESTRATOR_PASSWORD is set but --sasl is not given",
      "KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not: set it to plain, scram-sha-256, scram-sha-512",
      "SURGE_KAFKA_ORCHESTRATOR_PASSWORD must be 12 to 200 of A-Z a-z 0-9 . _ ~ - (it is not shown here)",
    ]],
    [{ KAFKA_BROKERS: "h:1", SURGE_KAFKA_DRIVER_PASSWORD: 'has"quote-and-more' }, ["--sasl"], [
      "SURGE_KAFKA_DRIVER_PASSWORD only applies to a broker started here, not to KAFKA_BROKERS",
      "SURGE_KAFKA_DRIVER_PASSWORD must be 12 to 200 of A-Z a-z 0-9 . _ ~ - (it is not shown here)",
    ]],
    [{}, ["--nodes", "9", "--controller-port", "9"], [
      "--controller-port does not go with --nodes (controllers are port + 1, + 3, ...)",
      '--nodes must be a whole number from 1 to 5, got "9"',
    ]],
    [{}, ["--listen", "0.0.0.0:9092", "--port", "1"], [
      "--node-id is required with --listen",
      "--controllers is required with --listen",
      "--port does not go with --listen",
    ]],
    [{}, ["--node-id", "4", "--listen", "10.0.0.4:9092", "--controllers", "1@h:9093,2@h:9093"], [
      '--controllers lists h:9093 twice, got "1@h:9093,2@h:9093"',
    ]],
    [{}, ["--node-id", "4", "--listen", "10.0.0.4:9092", "--controllers", "1@a:9093,2@b:9093"], [
      "--node-id 4 is not in --controllers (1, 2)",
    ]],
    [{}, ["--node-id", "1", "--listen", "0.0.0.0:9092", "--controllers", "1@a:9093"], [
      "--listen 0.0.0.0:9092 is a wildcard: give --advertise",
    ]],
    [{ SURGE_KAFKA_ADMIN_PASSWORD: "correct-horse-battery" }, [
      "--sasl",
      "--node-id=1",
      "--listen=10.0.0.1:9092",
      "--controllers=1@10.0.0.1:9093,2@10.0.0.2:9093",
    ], [
      "SURGE_KAFKA_ORCHESTRATOR_PASSWORD is required with --sasl and --node-id (the same on every node)",
      "SURGE_KAFKA_DRIVER_PASSWORD is required with --sasl and --node-id (the same on every node)",
    ]],
    [{ KAFKA_BROKERS: "h:1" }, ["--nodes", "3"], [
      "KAFKA_BROKERS names an existing cluster: --nodes starts no broker",
    ]],
    [{ KAFKA_PORT: "x" }, ["--prefix", "a/b"], [
      'KAFKA_PORT must be a port number 1-65535, got "x"',
      '--prefix is not usable: Invalid topic prefix "a/b": use at most 100 of A-Z a-z 0-9 . _ -',
    ]],
  ];
  for (const [env, args, problems] of table) {
    assert.throws(() => parseKafkaConfig(env, args), { name: "UsageError", problems });
  }
});
Deno.test("broker properties: single KRaft node on loopback with dev-friendly settings", () => {
  const props = brokerProperties(singleNodeLayout(9092), "/tmp/x");
  for (
    const line of [
      "process.roles=broker,controller",
      "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
      "controller.quorum.voters=1@127.0.0.1:9093",
      "offsets.topic.replication.factor=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      "log.dirs=/tmp/x",
    ]
  ) assert.ok(props.split("\n").includes(line), line);
});

Deno.test("cluster ids are 22 URL-safe characters and never start with '-'", () => {
  for (let i = 0; i < 5000; i++) {
    const id = randomClusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});
