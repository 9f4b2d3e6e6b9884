/**
 * A final report that never arrives does not hold a test open, for real: driver `two` runs in a
 * cgroup of its own, and an iptables rule drops its packets to the broker (see
 * tests/support/net_cut.ts) about 2 s before its part of a paced test ends, so its heartbeats stop
 * and its final metrics cannot leave; driver `one` is untouched. Then:
 *
 * - the test settles within the documented bound, at most about 3 s (3 missed heartbeats; the
 *   orchestrator's sweep runs every 100 ms) after its last driver finished, `finished` and
 *   naming `two` as lost (`no heartbeat`), with `one`'s numbers complete;
 * - once the rule is gone, `two`'s late final report gets out (its publisher retries until
 *   delivered) and, arriving within 30 s of the settlement, counts: both drivers' numbers add
 *   up to the target's own count;
 * - `two` is alive and idle again and runs the next test.
 *
 * Needs root and iptables (CI installs it); the rule, the cgroup and every process are removed
 * in `finally`, also on failure.
 */
import assert from "node:assert/strict";
import { Cluster } from "../support/cluster.ts";
import { eventually } from "../support/processes.ts";
import { NetCut } from "../support/net_cut.ts";

const RATE = 50; // requests/s per driver
const COUNT = 500; // per driver: 10 s at RATE
/**
 * Cut `two` off once it has reported this many, 2 s before its end: the view lags by up to a
 * report interval and Kafka's delivery, so the cut comes 1–2 s before the final report is due.
 */
const CUT_AT = COUNT - 2 * RATE;
/** README: lost after 3 missed heartbeats (1 s each); the orchestrator sweeps every 100 ms. */
const LOST_AFTER_MS = 3_000;
const SWEEP_MS = 100;
/** A loaded 2-core machine: Kafka's delivery of the other final, event-loop stalls. */
const SLACK_MS = 2_000;
/** README: after a test settles, late reports still count for 30 s. */
const GRACE_MS = 30_000;

const paced = (cluster: Cluster, count: number) => ({
  test_type: "AVALANCHE",
  test_message_delay: 0,
  message_count_per_driver: count,
  target_throughput: RATE,
  target_url: cluster.targetUrl,
  connections: 2,
});

Deno.test({
  name: "a driver cut off from Kafka before its final report: the test settles within 3 s",
  fn: async () => {
    const cluster = await Cluster.create("blocked");
    const ports = cluster.brokers.map((b) => Number(b.slice(b.lastIndexOf(":") + 1)));
    let cut: NetCut | undefined;
    try {
      cut = await NetCut.create("blocked", ports);
      await cluster.startOrchestrator();
      cluster.driver("one");
      cluster.driver("two", { wrap: cut.wrap });
      await cluster.idle(["one", "two"]);

      const id = await cluster.run(paced(cluster, COUNT));
      await eventually("two well into the test", async () => {
        const view = await cluster.api("GET", `/api/tests/${id}`);
        return view.drivers.two?.responses >= CUT_AT;
      }, 60_000);
      const cutAt = Date.now();
      await cut.cut();
      const done = await cluster.settled(id);
      await cut.restore();
      const restoredAt = Date.now();
      const endedAt = Date.parse(done.ended_at);

      // Settled and named: `two` lost, its final report missing; `one` complete.
      assert.equal(done.drivers.two.final, false, "two's final report got through the cut");
      assert.equal(done.drivers.two.status, "lost");
      assert.equal(done.drivers.two.lost_reason, "no heartbeat");
      assert.equal(done.state, "finished", JSON.stringify(done.reason));
      assert.equal(done.reason, "1 of 2 drivers lost");
      assert.ok(done.drivers.two.responses < COUNT, `${done.drivers.two.responses} answered`);
      assert.equal(done.drivers.one.status, "final");
      assert.equal(done.drivers.one.requests, COUNT);
      assert.equal(done.drivers.one.responses, COUNT);

      // The late final report counts within the grace period, with `two`'s whole part.
      const late = await eventually("two's late final report", async () => {
        const view = await cluster.api("GET", `/api/tests/${id}`);
        return view.drivers.two.final && view;
      }, GRACE_MS);
      const lateAt = Date.now();
      assert.ok(lateAt - endedAt <= GRACE_MS, "counted after the grace period");
      assert.equal(late.state, "finished");
      assert.equal(late.drivers.two.status, "final");
      assert.equal(late.drivers.two.requests, COUNT);
      assert.equal(late.overall.requests, 2 * COUNT);
      assert.equal(cluster.counters.requestsReceived, 2 * COUNT);
      assert.equal(cluster.counters.responsesSent, 2 * COUNT);
      assert.deepEqual(late.drivers.one, done.drivers.one);

      // The bound: each final report is stamped when its driver finished (same host clock here).
      const finishedAt = Math.max(
        ...["one", "two"].map((node) => Date.parse(late.drivers[node].reported_at)),
      );
      const settleMs = endedAt - finishedAt;
      const boundMs = LOST_AFTER_MS + SWEEP_MS + SLACK_MS;
      assert.ok(settleMs <= boundMs, `settled ${settleMs} ms after the last driver finished`);
      assert.ok(Date.parse(late.drivers.two.reported_at) > cutAt, "two finished before the cut");

      // `two` recovers and takes part in the next test.
      await cluster.idle(["one", "two"]);
      cluster.counters.reset();
      const next = await cluster.settled(await cluster.run(paced(cluster, 50)));
      assert.equal(next.state, "finished", JSON.stringify(next.reason));
      for (const node of ["one", "two"]) assert.equal(next.drivers[node].status, "final", node);
      assert.equal(next.overall.requests, 100);
      assert.equal(cluster.counters.requestsReceived, 100);
      console.log(
        `final blocked: cut ${Date.parse(late.drivers.two.reported_at) - cutAt} ms before two ` +
          `finished; settled ${settleMs} ms after the last driver finished (bound ${boundMs} ms), ` +
          `${endedAt - cutAt} ms after the cut; two's late final counted ${lateAt - endedAt} ms ` +
          `after the settlement (${lateAt - restoredAt} ms after the cut was lifted)`,
      );
    } finally {
      await cut?.restore();
      await cluster.close();
      await cut?.close();
    }
  },
});
