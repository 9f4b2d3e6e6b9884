/**
 * Fleet scenarios with faults on real hosts: a driver's cable pulled mid-test, a driver's link
 * slowed down and lossy, a Kafka broker SIGKILLed mid-test. Each leaves the lab as it found it
 * (cable plugged in, wire cleared), also when it fails, except the dead broker: it runs last.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { sleep } from "../../shared/async.ts";
import { topicNames } from "../../shared/topics.ts";
import type { Json } from "../support/api_json.ts";
import { CLEAR } from "../support/delay_line.ts";
import { eventually } from "../support/processes.ts";
import type { Fleet } from "./fleet.ts";
import { assertComplete, assertDriverComplete, percentile, tsunami } from "./results.ts";

/** README "Drivers that die…": lost after 3 missed heartbeats of 1 s; the sweep runs every 100 ms. */
const LOST_AFTER_MS = 3 * 1_000 + 100;
/**
 * A loaded 2-core machine (3 JVMs and 11 Deno processes here) may hold the orchestrator's sweep
 * timer and the API's answer back; the poll runs every 50 ms.
 */
const LOST_SLACK_MS = 1_000;

/**
 * Pulls `victim`'s cable once it has answered a few requests of a 6 s Tsunami on `names`:
 * the orchestrator counts it lost within {@link LOST_AFTER_MS} of the cut (its last heartbeat
 * came before the cut), the test settles on the other drivers with their numbers complete and
 * the victim marked lost; plugged in again, the victim's final report still counts and it is
 * alive and idle for the next test.
 */
export async function cableCut(fleet: Fleet, names: string[], victim: string): Promise<void> {
  const COUNT = 300;
  const CONNECTIONS = 2;
  // A 6 s timetable; the 10 s window bounds the victim's part, whose connects time out meanwhile.
  const body = tsunami(fleet.targetUrl, 20, COUNT, {
    connections: CONNECTIONS,
    timeoutMs: 1_000,
    durationS: 10,
  });
  const host = fleet.driver(victim).host;
  await fleet.idle(names);
  const before = await fleet.targetReceived();
  const id = await fleet.run(body);
  try {
    await eventually(
      `${victim} well into test ${id}`,
      async () => {
        const view = await fleet.api("GET", `/api/tests/${id}`);
        return view.drivers[victim]?.responses >= 50;
      },
      60_000,
      50,
    );
    await fleet.lab.linkDown(host);
    const cutAt = Date.now();
    const lost: Json = await eventually(
      `${victim} lost`,
      async () => {
        const { drivers } = await fleet.api("GET", "/api/drivers");
        const seen = drivers.find((d: Json) => d.node_id === victim);
        return seen?.status === "lost" && { ...seen, at: Date.now() };
      },
      30_000,
      50,
    );
    const detectMs = lost.at - cutAt;
    const lastBeat = Date.parse(lost.last_heartbeat) - cutAt;
    fleet.say(
      `cable cut: ${victim} lost ${detectMs} ms after the cut (last heartbeat ${lastBeat} ms from it)`,
    );
    assert.ok(lastBeat <= 0, `a heartbeat arrived ${lastBeat} ms after the cut`);
    assert.ok(detectMs <= LOST_AFTER_MS + LOST_SLACK_MS, `lost ${detectMs} ms after the cut`);

    const view = await fleet.settled(id);
    assert.equal(view.state, "finished", view.reason);
    assert.equal(view.reason, `1 of ${names.length} drivers lost`);
    assert.equal(view.drivers[victim].status, "lost");
    assert.equal(view.drivers[victim].lost_reason, "no heartbeat");
    assert.equal(view.drivers[victim].final, false);
    for (const name of names) if (name !== victim) assertDriverComplete(view, name, COUNT);
  } finally {
    await fleet.lab.linkUp(host);
  }
  // Plugged in again: the victim's publisher delivers its final report (within the 30 s a
  // settled test still takes reports), and it is back for the next test.
  await fleet.idle([victim]);
  const view = await fleet.api("GET", `/api/tests/${id}`);
  const v = view.drivers[victim];
  const received = (await fleet.targetReceived()) - before;
  const others = (names.length - 1) * COUNT;
  fleet.say(
    `cable cut: ${victim} final ${v.final}: ${v.requests} requests, ${v.responses} answered, ` +
      `${v.errors} errors ${
        JSON.stringify(v.error_kinds)
      }, ${v.dropped} dropped; target got ${received}`,
  );
  assert.equal(v.final, true, "the victim's final report did not count");
  assert.equal(v.requests, v.responses + v.errors);
  assert.equal(view.overall.requests, others + v.requests);
  // Every answered request reached the target; of the failed ones, only those in flight when
  // the cable was pulled may have (one per connection): the rest never left the host.
  assert.ok(received >= others + v.responses, `target got ${received}`);
  assert.ok(received <= others + v.responses + CONNECTIONS, `target got ${received}`);
}

/** README "Staleness": the orchestrator's view of every driver is at most about a second old. */
const STALENESS_BOUND_MS = 1_000;
const NETEM = { delayMs: 50, loss: 0.01 };
/**
 * The view is sampled at the driver's report interval (500 ms), and a report that meets the 1 %
 * loss waits for TCP's retransmission (at least 200 ms) on a loaded machine.
 */
const STALENESS_SLACK_MS = 500;

/**
 * `victim`'s link gets 50 ms of delay and 1 % loss (what `tc netem delay 50ms loss 1%` on its
 * egress does) for a 8 s Tsunami at 50 requests/s on `names`: the test completes, exactly, and
 * the orchestrator's view of the victim stays within the staleness bound plus the added delay.
 *
 * Staleness as bench/staleness.ts measures it: at poll time t a driver that started at `start`
 * has answered about (t − start) / delay requests; the view shows `responses`, so it is
 * `(t − start) − responses × delay` old (the response time, 50 ms more here, included). The first
 * and last second are left out: they measure start-up and the final report.
 */
export async function slowLink(fleet: Fleet, names: string[], victim: string): Promise<void> {
  const COUNT = 400;
  const DELAY_MS = 20;
  const body = tsunami(fleet.targetUrl, DELAY_MS, COUNT, {
    connections: 8,
    timeoutMs: 5_000,
    durationS: 30,
  });
  const host = fleet.driver(victim).host;
  await fleet.idle(names);
  await fleet.lab.impair(host, NETEM);
  try {
    const before = await fleet.targetReceived();
    const id = await fleet.run(body);
    const samples: { t: number; view: Json }[] = [];
    for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
      const view = await fleet.api("GET", `/api/tests/${id}`);
      samples.push({ t: Date.now(), view });
      if (view.settled) break;
      await sleep(100);
    }
    const view = await fleet.settled(id);
    const received = (await fleet.targetReceived()) - before;
    assertComplete(view, names, COUNT);
    assert.equal(received, names.length * COUNT, "the target's own count");

    const staleness = (name: string) => {
      const final = view.drivers[name];
      const start = Date.parse(final.reported_at) - final.elapsed_s * 1_000;
      const end = start + COUNT * DELAY_MS;
      return samples.filter(({ t }) => t >= start + 1_000 && t <= end - 1_000)
        .map(({ t, view }) => (t - start) - (view.drivers[name]?.responses ?? 0) * DELAY_MS);
    };
    const slowed = staleness(victim);
    const others = names.filter((n) => n !== victim).flatMap(staleness);
    const figures = (xs: number[]) =>
      `p50 ${percentile(xs, 50).toFixed(0)} ms, p99 ${percentile(xs, 99).toFixed(0)} ms, max ${
        Math.max(...xs).toFixed(0)
      } ms`;
    fleet.say(
      `slow link (${NETEM.delayMs} ms, ${
        NETEM.loss * 100
      } % loss on ${victim}): staleness of ${victim} ` +
        `over ${slowed.length} polls ${figures(slowed)}; of the other drivers ${
          figures(others)
        }; ` +
        `${victim}'s latency p50 ${view.drivers[victim].latency_ms.median} ms, p99 ${
          view.drivers[victim].latency_ms.p99
        } ms`,
    );
    assert.ok(slowed.length >= 20, `only ${slowed.length} polls in the window`);
    const bound = STALENESS_BOUND_MS + NETEM.delayMs + STALENESS_SLACK_MS;
    assert.ok(Math.max(...slowed) <= bound, `${victim}'s view was ${Math.max(...slowed)} ms stale`);
    // The delay is real: every request of the victim waited for it (less HDR's 0.1 % rounding).
    const min = view.drivers[victim].latency_ms.min;
    assert.ok(min >= NETEM.delayMs * 0.999, `the victim's fastest request took ${min} ms`);
  } finally {
    await fleet.lab.impair(host, CLEAR);
  }
}

/** The Kafka node that leads most partitions of the metrics topic. */
async function metricsLeader(fleet: Fleet): Promise<{ node: number; leads: number; of: number }> {
  const admin = new Kafka({ brokers: fleet.brokerList.split(","), logLevel: logLevel.NOTHING })
    .admin();
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

/**
 * The JVM of the Kafka node leading most metrics partitions is SIGKILLed 2 s into an 8 s
 * Tsunami on `names`: the test completes on every driver, no metrics lost, and the merged totals
 * equal the target's own count.
 */
export async function brokerKill(fleet: Fleet, names: string[]): Promise<void> {
  const COUNT = 400;
  const body = tsunami(fleet.targetUrl, 20, COUNT, {
    connections: 4,
    timeoutMs: 5_000,
    durationS: 60,
  });
  await fleet.idle(names);
  const before = await fleet.targetReceived();
  const id = await fleet.run(body);
  await eventually(
    `test ${id} 2 s in`,
    async () => {
      const view = await fleet.api("GET", `/api/tests/${id}`);
      return view.overall.responses >= names.length * 100;
    },
    60_000,
    50,
  );
  const leader = await metricsLeader(fleet);
  const pid = await fleet.brokerJvm(leader.node);
  Deno.kill(pid, "SIGKILL");
  const killedAt = Date.now();
  fleet.say(
    `SIGKILLed Kafka node ${leader.node}'s JVM (pid ${pid}), leader of ${leader.leads} of ${leader.of} metrics partitions`,
  );
  const view = await fleet.settled(id, 180_000);
  const received = (await fleet.targetReceived()) - before;
  const lost = names.filter((n) => view.drivers[n]?.status === "lost");
  fleet.say(
    `broker kill: test ${view.state} ${
      ((Date.parse(view.ended_at) - killedAt) / 1000).toFixed(1)
    } s after the kill, ` +
      `${view.overall.requests} requests merged, target got ${received}; drivers lost on the way: ${lost.length}`,
  );
  assertComplete(view, names, COUNT);
  assert.equal(received, names.length * COUNT, "the target's own count");
}
