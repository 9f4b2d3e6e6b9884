import assert from "node:assert/strict";
import { parseKafkaConfig } from "../../kafka/config.ts";
import { brokerProperties, randomClusterId } from "../../kafka/local_broker.ts";

Deno.test("kafka task config: defaults, env, flags", () => {
  const d = parseKafkaConfig({}, []);
  assert.deepEqual([d.port, d.controllerPort, d.wipe, d.fetchOnly, d.topicPrefix, d.external], [
    9092,
    9093,
    false,
    false,
    "",
    undefined,
  ]);
  const c = parseKafkaConfig({ KAFKA_PORT: "9200", SURGE_TOPIC_PREFIX: "me." }, ["--wipe"]);
  assert.deepEqual([c.port, c.controllerPort, c.wipe, c.topicPrefix], [9200, 9201, true, "me."]);
  assert.deepEqual(parseKafkaConfig({ KAFKA_BROKERS: "127.0.0.1:1234" }, []).external, [
    "127.0.0.1:1234",
  ]);
});

Deno.test("kafka task config reports every problem at once", () => {
  assert.throws(
    () => parseKafkaConfig({ KAFKA_BROKERS: "nope" }, ["--port", "0", "--controller-port", "x"]),
    (err: Error) =>
      err instanceof RangeError && /--port/.test(err.message) &&
      /--controller-port/.test(err.message) && /Invalid Kafka broker "nope"/.test(err.message),
  );
  assert.throws(() => parseKafkaConfig({}, ["--what"]), /what/);
});

Deno.test("broker properties: single KRaft node on loopback with dev-friendly settings", () => {
  const props = brokerProperties({ port: 9092, controllerPort: 9093 }, "/tmp/x");
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
