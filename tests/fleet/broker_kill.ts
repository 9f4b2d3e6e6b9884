/**
 * A Kafka broker SIGKILLed mid-test, on real hosts: the JVM of the node that leads most
 * partitions of the metrics topic dies 2 s into a 16 s Tsunami, which leaves the cluster time to
 * fence the node and move its leaderships (Kafka's broker session timeout, 9 s) before the test
 * ends. The test completes on every driver, no metrics are lost (every driver's final report
 * counts), and the merged totals equal the target's own count. The node stays dead: this scenario
 * runs last.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { topicNames } from "../../shared/topics.ts";
import type { Fleet } from "./fleet.ts";
import { assertComplete, LATE_FINAL, tsunami } from "./results.ts";

const COUNT = 800;

/** The Kafka node that leads most partitions of the metrics topic. */
async function metricsLeader(fleet: Fleet): Promise<{ node: number; leads: number; of: number }> {
  const kafka = new Kafka({ brokers: fleet.brokerList.split(","), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = topicNames(fleet.prefix).metrics;
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]!.partitions;
    const leads = new Map<number, number>();
    for (const p of partitions) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
    const [node, count] = [...leads].sort((a, b) => b[1] - a[1])[0]!;
    return { node, leads: count, of: partitions.length };
  } finally {
    await admin.disconnect();
  }
}

/** Kills a broker during a test on `names`. */
export async function brokerKill(fleet: Fleet, names: string[]): Promise<void> {
  const body = tsunami(fleet.targetUrl, 20, COUNT, {
    connections: 4,
    timeoutMs: 5_000,
    durationS: 60,
  });
  await fleet.idle(names);
  const before = await fleet.targetReceived();
  const id = await fleet.run(body);
  // Mid-test by the target's own count, which no Kafka delay holds back.
  await fleet.until(
    `test ${id} 2 s in`,
    async () => {
      return (await fleet.targetReceived()) - before >= names.length * 100;
    },
    60_000,
    50,
  );
  const leader = await metricsLeader(fleet);
  const pid = await fleet.brokerJvm(leader.node);
  Deno.kill(pid, "SIGKILL");
  const killedAt = Date.now();
  fleet.say(
    `broker kill: SIGKILLed Kafka node ${leader.node}'s JVM (pid ${pid}), leader of ` +
      `${leader.leads} of ${leader.of} metrics partitions`,
  );
  // A driver counted lost while the cluster failed over still sends its final report, which
  // counts for 30 s after the settlement: `complete` waits for every one.
  const { settled, view, lost } = await fleet.complete(id, names, 180_000);
  const received = (await fleet.targetReceived()) - before;
  fleet.say(
    `broker kill: test ${settled.state} ` +
      `${((Date.parse(settled.ended_at) - killedAt) / 1000).toFixed(1)} s after the kill; ` +
      `${view.overall.requests} requests merged, the target got ${received}; drivers counted ` +
      `lost on the way: ${lost.length === 0 ? "none" : lost.join(", ")}`,
  );
  // Lost for any reason on the way (a heartbeat stuck behind the dead leader, a late final
  // report), as long as its numbers all came.
  assertComplete(view, names, COUNT, ["no heartbeat", LATE_FINAL]);
  assert.equal(received, names.length * COUNT, "the target's own count");
}
