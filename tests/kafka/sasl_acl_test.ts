/**
 * Kafka access on a real SASL broker with ACLs (`deno task kafka --sasl`'s set-up, started on
 * free ports with its data in a temp dir, never the shared broker): the orchestrator and two
 * drivers run as processes, each with its own user's credentials from the password files the
 * broker wrote, and a whole test runs with totals equal to the target's own count. Then the
 * drivers' user tries to publish a trigger for a configured test: the broker refuses it
 * (TOPIC_AUTHORIZATION_FAILED), nothing lands on the topic and no driver runs the test. Each
 * user is refused the other's topics, and a wrong password stops a driver with a clear error.
 *
 * The processes, the target, the broker and the temp dirs are cleaned up in `finally`.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { defaultPaths } from "../../kafka/jars.ts";
import { type LocalBroker, startLocalBroker } from "../../kafka/local_broker.ts";
import { LOCAL_SASL_MECHANISM, type SaslUser } from "../../kafka/sasl_users.ts";
import { sleep } from "../../shared/async.ts";
import { encodeMessage } from "../../shared/messages.ts";
import { type TopicKind, topicNames } from "../../shared/topics.ts";
import { type Json } from "../support/api_json.ts";
import { Cluster } from "../support/cluster.ts";
import { freePortPair } from "../support/processes.ts";
import { singleNodeLayout } from "../../kafka/cluster_layout.ts";

const PER_DRIVER = 200;
/**
 * How long a forged trigger would need to show: drivers read the trigger topic with a 100 ms
 * fetch wait and start a test within a second of a trigger (tests/driver/node_kafka_test.ts);
 * three seconds is three times that.
 */
const FORGED_WATCH_MS = 3_000;

/** A kafkajs client of the test broker as `user`, with `password` (its file's by default). */
function clientAs(broker: LocalBroker, user: SaslUser, password?: string): Kafka {
  return new Kafka({
    clientId: `sasl-test-${user}`,
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 1 },
    sasl: {
      mechanism: LOCAL_SASL_MECHANISM,
      username: user,
      password: password ?? Deno.readTextFileSync(broker.passwordFiles![user]).trim(),
    },
  });
}

/** The environment of a component that connects as `user`. */
function envAs(broker: LocalBroker, user: SaslUser): Record<string, string> {
  return {
    KAFKA_SASL_MECHANISM: LOCAL_SASL_MECHANISM,
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD_FILE: broker.passwordFiles![user],
  };
}

/** How `user`'s attempt to publish `value` on `topic` ended: "sent" or kafkajs's error type. */
async function publishAs(kafka: Kafka, topic: string, value: string): Promise<string> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value }] });
    return "sent";
  } catch (err) {
    return String((err as { type?: string }).type ?? (err as Error).message);
  } finally {
    await producer.disconnect();
  }
}

/** The next offset of the topic's partition 0, read as the admin. */
async function endOffset(admin: Kafka, topic: string): Promise<string> {
  const client = admin.admin();
  await client.connect();
  try {
    const [partition] = await client.fetchTopicOffsets(topic);
    return partition!.high;
  } finally {
    await client.disconnect();
  }
}

Deno.test({
  name: "SASL broker with ACLs: a whole test runs; the drivers' user cannot publish a trigger",
  // kafkajs (the broker's readiness probe and this test's clients) leaves internal timers behind.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const port = freePortPair();
    const kafkaDir = await Deno.makeTempDir({ prefix: "surge-sasl-kafka-" });
    let broker: LocalBroker | undefined;
    let cluster: Cluster | undefined;
    try {
      const brokerStarted = Date.now();
      const label = "sasl";
      cluster = await Cluster.create(label, { brokers: [`127.0.0.1:${port}`] });
      broker = await startLocalBroker({
        node: singleNodeLayout(port),
        paths: { ...defaultPaths(port), dataDir: kafkaDir },
        wipe: true,
        heap: "512m",
        topicPrefix: cluster.prefix,
        sasl: {},
      });
      console.log(`SASL broker ready in ${Date.now() - brokerStarted} ms`);
      // Its messages and password files are for the ACLs to guard, not for other local users.
      assert.equal((await Deno.stat(kafkaDir)).mode! & 0o777, 0o700);
      const c = cluster;
      const b = broker;
      const topics = topicNames(c.prefix);
      await c.startOrchestrator(envAs(b, "orchestrator"));
      c.driver("one", { env: envAs(b, "driver") });
      c.driver("two", { env: envAs(b, "driver") });
      await c.idle(["one", "two"], 90_000);

      await t.step("a whole test runs, every request counted by the target", async () => {
        const id = await c.run({
          test_type: "AVALANCHE",
          test_message_delay: 0,
          message_count_per_driver: PER_DRIVER,
          target_url: c.targetUrl,
          connections: 2,
        });
        const test = await c.settled(id);
        assert.equal(test.state, "finished", JSON.stringify(test.drivers));
        assert.equal(test.overall.requests, 2 * PER_DRIVER);
        assert.equal(test.overall.responses, 2 * PER_DRIVER);
        assert.equal(c.counters.requestsReceived, 2 * PER_DRIVER);
      });

      await t.step("the drivers' user cannot trigger a configured test", async () => {
        const { test_id: id } = await c.api("POST", "/api/tests", {
          test_type: "AVALANCHE",
          test_message_delay: 0,
          message_count_per_driver: PER_DRIVER,
          target_url: c.targetUrl,
        });
        const admin = clientAs(b, "admin");
        const before = await endOffset(admin, topics.trigger);
        const received = c.counters.requestsReceived;
        const forged = encodeMessage("trigger", {
          test_id: id,
          trigger: "YES",
          timestamp: Date.now(),
        });
        assert.equal(
          await publishAs(clientAs(b, "driver"), topics.trigger, forged),
          "TOPIC_AUTHORIZATION_FAILED",
        );
        await sleep(FORGED_WATCH_MS);
        assert.equal(await endOffset(admin, topics.trigger), before, "nothing landed on trigger");
        assert.equal(c.counters.requestsReceived, received, "the target saw no request");
        const test = await c.api("GET", `/api/tests/${id}`);
        assert.equal(test.state, "created");
        const { drivers } = await c.api("GET", "/api/drivers");
        assert.deepEqual(drivers.map((d: Json) => [d.node_id, d.status, d.test_id]), [
          ["one", "alive", null],
          ["two", "alive", null],
        ]);
      });

      await t.step("each user is refused the topics only the other may write", async () => {
        const refusals: [SaslUser, TopicKind][] = [
          ["driver", "test_config"],
          ["driver", "trigger"],
          ["orchestrator", "register"],
          ["orchestrator", "metrics"],
        ];
        for (const [user, kind] of refusals) {
          const outcome = await publishAs(clientAs(b, user), topics[kind], "{}");
          assert.equal(outcome, "TOPIC_AUTHORIZATION_FAILED", `${user} → ${kind}`);
        }
      });

      await t.step("a wrong password stops a driver with a clear error", async () => {
        const wrong = { ...envAs(b, "driver"), KAFKA_SASL_PASSWORD_FILE: "" };
        const driver = c.driver("three", {
          env: { ...wrong, KAFKA_SASL_PASSWORD: "not-the-password" },
        });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const gaveUp = new Promise<null>((resolve) => timer = setTimeout(resolve, 60_000, null));
        const status = await Promise.race([driver.status, gaveUp]);
        clearTimeout(timer);
        assert.notEqual(status, null, `the driver did not give up:\n${driver.output()}`);
        assert.equal(status!.code, 1, driver.output());
        assert.match(driver.output(), /SASL SCRAM SHA512 authentication failed/);
        assert.doesNotMatch(driver.output(), /not-the-password/);
      });
    } finally {
      await cluster?.close();
      await broker?.stop();
      await Deno.remove(kafkaDir, { recursive: true }).catch(() => {});
    }
  },
});
