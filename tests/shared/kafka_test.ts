/**
 * The project's own Kafka code against the real broker (started by `deno task test`).
 * kafkajs leaves internal timers behind after disconnect, so these tests turn Deno's op and
 * resource sanitizers off; every client is still disconnected in a finally.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Partitioners } from "kafkajs";
import type { Delivered } from "../../shared/bus.ts";
import { METRICS_PARTITIONS } from "../../shared/ensure_topics.ts";
import { TOPIC_KINDS } from "../../shared/topics.ts";
import { createTestBus } from "../support/kafka.ts";
import { eventually } from "../support/processes.ts";
import { VALID as FIXTURES } from "./fixtures.ts";

/** The valid examples stamped now: a receiver refuses a timestamp more than a day off. */
const VALID = Object.fromEntries(
  Object.entries(FIXTURES).map(([kind, m]) => [kind, { ...m, timestamp: Date.now() }]),
) as typeof FIXTURES;

const kafkaTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

kafkaTest("one message on each of the five topics is produced and consumed intact", async () => {
  const { bus } = await createTestBus("kafka-roundtrip");
  const received: Delivered[] = [];
  try {
    await bus.subscribe({
      groupId: `roundtrip-${crypto.randomUUID()}`,
      kinds: TOPIC_KINDS,
      fromBeginning: true,
      onMessage: (d) => void received.push(d),
    });
    for (const kind of TOPIC_KINDS) await bus.publish(kind, VALID[kind]);
    await eventually("five messages", () => received.length >= 5, 20_000);
    for (const kind of TOPIC_KINDS) {
      const got = received.find((d) => d.kind === kind);
      assert.ok(got, `nothing arrived on ${kind}`);
      assert.deepEqual(got.message, VALID[kind]);
    }
    assert.equal(received.length, 5);
  } finally {
    await bus.close();
  }
});

kafkaTest(
  "a poison message on every topic is skipped and counted; the next good one arrives",
  async () => {
    const { bus, topics } = await createTestBus("kafka-poison");
    const producer = bus.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const received: Delivered[] = [];
    try {
      await bus.subscribe({
        groupId: `poison-${crypto.randomUUID()}`,
        kinds: TOPIC_KINDS,
        fromBeginning: true,
        onMessage: (d) => {
          // A throwing handler must not wedge the consumer either.
          if (d.kind === "register" && d.message.node_id === "explode") throw new Error("boom");
          received.push(d);
        },
      });
      await producer.connect();
      for (const kind of TOPIC_KINDS) {
        await producer.send({
          topic: topics[kind],
          messages: [
            { value: "{not json" },
            { value: null },
            { value: JSON.stringify({ ...VALID[kind], node_id: 42, test_id: "" }) },
            { value: Buffer.from([0xc3, 0x28]) }, // invalid UTF-8
          ],
        });
      }
      await bus.publish("register", { ...VALID.register, node_id: "explode" });
      for (const kind of TOPIC_KINDS) await bus.publish(kind, VALID[kind]);
      await eventually("the good messages after the poison", () => received.length >= 5, 20_000);
      assert.deepEqual(received.map((d) => d.kind).sort(), [...TOPIC_KINDS].sort());
      for (const kind of TOPIC_KINDS) {
        assert.equal(
          bus.invalid[kind],
          4,
          `invalid count on ${kind}`,
        );
      }
    } finally {
      await producer.disconnect();
      await bus.close();
    }
  },
);

kafkaTest("a producer whose clock runs 2 h fast is not refused by the broker", async () => {
  const { bus, topics } = await createTestBus("kafka-clock");
  const producer = bus.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const received: Delivered[] = [];
  try {
    await bus.subscribe({
      groupId: `clock-${crypto.randomUUID()}`,
      kinds: ["heartbeat"],
      fromBeginning: true,
      onMessage: (d) => void received.push(d),
    });
    await producer.connect();
    // kafkajs stamps a message with its host's clock unless told: this is a host 2 h ahead.
    // A CreateTime topic refuses it (Kafka 4: more than an hour ahead of the broker).
    await producer.send({
      topic: topics.heartbeat,
      messages: [{ value: JSON.stringify(VALID.heartbeat), timestamp: `${Date.now() + 7.2e6}` }],
    });
    await eventually("the heartbeat", () => received.length >= 1, 20_000);
    assert.deepEqual(received[0]!.message, VALID.heartbeat);
  } finally {
    await producer.disconnect();
    await bus.close();
  }
});

/** A handler error the bus must retry, never skip (as the orchestrator's StorageError). */
class StoreFull extends Error {
  readonly transient = true;
}

kafkaTest(
  "a transient handler failure delays a message, never skips it; closing leaves it uncommitted",
  async () => {
    const { bus } = await createTestBus("kafka-transient");
    const groupId = `transient-${crypto.randomUUID()}`;
    const seen: string[] = [];
    let full = true;
    try {
      const first = await bus.subscribe({
        groupId,
        kinds: ["register"],
        fromBeginning: true,
        onMessage: (d) => {
          const id = (d.message as { node_id: string }).node_id;
          seen.push(id);
          if (id === "c" && full) throw new StoreFull("database or disk is full");
        },
      });
      for (const id of ["a", "b", "c"]) {
        await bus.publish("register", { ...VALID.register, node_id: id });
      }
      // c fails at 0 ms, then after pauses of 250 and 500 ms: three attempts by 750 ms.
      await eventually("c to be tried three times", () => seen.length >= 5, 20_000);
      assert.deepEqual(seen.slice(0, 5), ["a", "b", "c", "c", "c"]);
      const closing = performance.now();
      await first.close();
      assert.ok(performance.now() - closing < 5000, "closing cuts the pause short");

      // The same group again: a and b were committed, c was not, so c comes first.
      seen.length = 0;
      full = false;
      await bus.subscribe({
        groupId,
        kinds: ["register"],
        fromBeginning: true,
        onMessage: (d) => void seen.push((d.message as { node_id: string }).node_id),
      });
      await bus.publish("register", { ...VALID.register, node_id: "d" });
      await eventually("c and d", () => seen.length >= 2, 20_000);
      assert.deepEqual(seen, ["c", "d"]);
    } finally {
      await bus.close();
    }
  },
);
kafkaTest("the link is up once subscribed and stays up while the consumers poll", async () => {
  const { bus } = await createTestBus("kafka-link");
  try {
    assert.equal(bus.link().connected, false, "no consumer yet: nothing is heard");
    for (const kinds of [["heartbeat"], ["metrics"]] as const) {
      await bus.subscribe({
        groupId: `link-${crypto.randomUUID()}`,
        kinds,
        fromBeginning: false,
        onMessage: () => {},
      });
    }
    const up = bus.link();
    assert.equal(up.connected, true);
    // An idle consumer still fetches every 100 ms (maxWaitTimeInMs), well inside the 3 s within
    // which the link counts as heard; over 3 s of polling it never drops, and `since` stays.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const { connected, since, heardAt } = bus.link();
      assert.deepEqual({ connected, since }, { connected: true, since: up.since });
      assert.ok(heardAt >= up.heardAt && heardAt <= Date.now());
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await bus.close();
  }
  assert.equal(bus.link().connected, false, "closed: nothing is heard");
});

kafkaTest(
  "metrics spread over partitions by node id; a partition first used while the group was away is read in full",
  async () => {
    const { bus, topics } = await createTestBus("kafka-partitions");
    const groupId = `resume-${crypto.randomUUID()}`;
    const nodes = Array.from({ length: 24 }, (_, i) => `node-${i}`);
    const metrics = (node_id: string) => ({ ...VALID.metrics, node_id });
    const received: string[] = [];
    const subscribe = (fromBeginning: boolean) =>
      bus.subscribe({
        groupId,
        kinds: ["metrics"],
        fromBeginning,
        resumeEveryPartition: true,
        onMessage: (d) => void (d.kind === "metrics" && received.push(d.message.node_id)),
      });
    try {
      const metadata = await (async () => {
        const admin = bus.kafka.admin();
        await admin.connect();
        try {
          return await admin.fetchTopicMetadata({ topics: [topics.metrics] });
        } finally {
          await admin.disconnect();
        }
      })();
      assert.equal(metadata.topics[0]!.partitions.length, METRICS_PARTITIONS);
      // The group consumes one node's report (from the beginning: subscribing at the end could
      // miss it), so it has an offset on one partition only.
      let sub = await subscribe(true);
      await bus.publish("metrics", metrics(nodes[0]!), nodes[0]);
      await eventually("the first report", () => received.length === 1, 20_000);
      await sub.close();
      // Away: 23 more nodes report; keyed by node id, they land on every partition.
      for (const node of nodes.slice(1)) await bus.publish("metrics", metrics(node), node);
      sub = await subscribe(false);
      await eventually("every report sent while away", () => received.length >= 24, 20_000);
      await sub.close();
      assert.deepEqual([...received].sort(), [...nodes].sort());
    } finally {
      await bus.close();
    }
  },
);

kafkaTest(
  "with commitEveryMs the group's offsets reach every partition's end, and a new consumer resumes there",
  async () => {
    const { bus, topics } = await createTestBus("kafka-commit-every");
    const groupId = `commit-every-${crypto.randomUUID()}`;
    const nodes = Array.from({ length: 12 }, (_, i) => `node-${i}`);
    const received: string[] = [];
    const subscribe = () =>
      bus.subscribe({
        groupId,
        kinds: ["metrics"],
        fromBeginning: true,
        commitEveryMs: 200,
        onMessage: (d) => void (d.kind === "metrics" && received.push(d.message.node_id)),
      });
    const admin = bus.kafka.admin();
    try {
      await admin.connect();
      let sub = await subscribe();
      for (const node_id of nodes) {
        await bus.publish("metrics", { ...VALID.metrics, node_id }, node_id);
      }
      await eventually("every report", () => received.length === nodes.length, 20_000);
      // Committed within the interval, while the subscription runs.
      const ends = await admin.fetchTopicOffsets(topics.metrics);
      const committed = async () => {
        const [topic] = await admin.fetchOffsets({ groupId, topics: [topics.metrics] });
        return topic!.partitions.map((p) => `${p.partition}:${p.offset}`).sort();
      };
      const expected = ends.map((p) => `${p.partition}:${p.offset === "0" ? "-1" : p.offset}`)
        .sort();
      await eventually(
        "offsets committed",
        async () => JSON.stringify(await committed()) === JSON.stringify(expected),
        10_000,
      );
      await sub.close();
      // A new consumer of the group reads only what came after.
      await bus.publish("metrics", { ...VALID.metrics, node_id: "late" }, "late");
      sub = await subscribe();
      await eventually("the late report", () => received.includes("late"), 20_000);
      await sub.close();
      assert.equal(received.length, nodes.length + 1, "nothing was read twice");
    } finally {
      await admin.disconnect();
      await bus.close();
    }
  },
);
