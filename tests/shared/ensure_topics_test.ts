/**
 * ensureTopics against the real broker (started by `deno task test`): single-partition topics
 * that someone made with more partitions are refused, before anything is created. kafkajs leaves
 * internal timers behind after disconnect, so the sanitizers are off; the admin is still
 * disconnected and the topics deleted in a finally.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ensureTopics, METRICS_PARTITIONS } from "../../shared/ensure_topics.ts";
import { installKafkajsFixes } from "../../shared/kafkajs_fixes.ts";
import { type TopicKind, topicNames } from "../../shared/topics.ts";
import { testBrokers, uniquePrefix } from "../support/kafka.ts";

installKafkajsFixes();

const kafka = () =>
  new Kafka({ clientId: "ensure-topics-test", brokers: testBrokers(), logLevel: logLevel.NOTHING });

const kafkaTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

kafkaTest(
  "ensureTopics refuses a pre-made command or heartbeat topic with several partitions",
  async () => {
    const topics = topicNames(uniquePrefix("partitions"));
    const admin = kafka().admin();
    await admin.connect();
    try {
      // [kind made beforehand, its partitions]: the metrics topic may have any number.
      const made: [TopicKind, number][] = [["trigger", 3], ["heartbeat", 2], ["metrics", 2]];
      await admin.createTopics({
        waitForLeaders: true,
        topics: made.map(([kind, n]) => ({ topic: topics[kind], numPartitions: n })),
      });
      await assert.rejects(ensureTopics(kafka().admin(), topics), (err: Error) => {
        assert.match(err.message, new RegExp(`${topics.trigger} \\(3 partitions\\)`));
        assert.match(err.message, new RegExp(`${topics.heartbeat} \\(2 partitions\\)`));
        assert.doesNotMatch(err.message, new RegExp(topics.metrics.replaceAll(".", "\\.")));
        assert.match(err.message, /exactly one partition.*SURGE_TOPIC_PREFIX/);
        return true;
      });
      const listed = new Set(await admin.listTopics());
      assert.ok(!listed.has(topics.register), "nothing is created before the refusal");
    } finally {
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
      await admin.disconnect();
    }
  },
);

kafkaTest("ensureTopics accepts the topics it made, and a metrics topic of any size", async () => {
  const topics = topicNames(uniquePrefix("partitions"));
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: topics.metrics, numPartitions: METRICS_PARTITIONS + 2 }],
    });
    await ensureTopics(kafka().admin(), topics);
    await ensureTopics(kafka().admin(), topics); // all exist now, each single one with 1
    const { topics: found } = await admin.fetchTopicMetadata({ topics: Object.values(topics) });
    const partitions = Object.fromEntries(found.map((t) => [t.name, t.partitions.length]));
    assert.equal(partitions[topics.trigger], 1);
    assert.equal(partitions[topics.metrics], METRICS_PARTITIONS + 2);
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await admin.disconnect();
  }
});
