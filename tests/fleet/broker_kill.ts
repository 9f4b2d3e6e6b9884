/**
 * A Kafka broker SIGKILLed mid-test, on real hosts: the JVM of the node that leads the heartbeat
 * topic's partition dies 2 s into a 16 s Tsunami, which leaves the cluster time to fence the node
 * and move its leaderships (Kafka's broker session timeout, 9 s) before the test ends. The test
 * completes on every driver, none is counted lost, no metrics are lost (every driver's final
 * report counts), and the merged totals equal the target's own count. The node stays dead: this
 * scenario runs last.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { topicNames } from "../../shared/topics.ts";
import type { Fleet } from "./fleet.ts";
import { assertComplete, tsunami } from "./results.ts";

const COUNT = 800;

/**
 * The Kafka node that leads the heartbeat topic's partition (the worst one to lose: every
 * driver's heartbeats stall until it is fenced) and how many metrics partitions it leads too.
 */
async function heartbeatLeader(fleet: Fleet): Promise<{ node: number; leads: number; of: number }> {
  const kafka = new Kafka({ brokers: fleet.brokerList.split(","), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = topicNames(fleet.prefix);
    const { topics } = await admin.fetchTopicMetadata({ topics: [names.heartbeat, names.metrics] });
    const partitions = (name: string) => topics.find((t) => t.name === name)!.partitions;
    const node = partitions(names.heartbeat)[0]!.leader;
    const metrics = partitions(names.metrics);
    return { node, leads: metrics.filter((p) => p.leader === node).length, of: metrics.length };
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
  const leader = await heartbeatLeader(fleet);
  const pid = await fleet.brokerJvm(leader.node);
  Deno.kill(pid, "SIGKILL");
  const killedAt = Date.now();
  fleet.say(
    `broker kill: SIGKILLed Kafka node ${leader.node}'s JVM (pid ${pid}), leader of the ` +
      `heartbeat partition and of ${leader.leads} of ${leader.of} metrics partitions`,
  );
  // Nobody may be counted lost: the orchestrator's probes tell the stalled heartbeat topic from
  // silent drivers. (`complete` would still wait for a late final report, to say more.)
  const { settled, view, lost } = await fleet.complete(id, names, 180_000);
  const received = (await fleet.targetReceived()) - before;
  fleet.say(
    `broker kill: test ${settled.state} ` +
      `${((Date.parse(settled.ended_at) - killedAt) / 1000).toFixed(1)} s after the kill; ` +
      `${view.overall.requests} requests merged, the target got ${received}; drivers counted ` +
      `lost on the way: ${lost.length === 0 ? "none" : lost.join(", ")}`,
  );
  assert.deepEqual(lost, [], "no driver is lost while Kafka moves the leaderships");
  assertComplete(view, names, COUNT);
  assert.equal(received, names.length * COUNT, "the target's own count");
}
