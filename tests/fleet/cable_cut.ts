/**
 * A driver's cable pulled mid-test, on real hosts: the orchestrator counts it lost within the
 * liveness rule's bound, the test settles on the other drivers and marks it, and once plugged in
 * again it delivers its final report and takes part in the next test.
 */
import assert from "node:assert/strict";
import { sleep } from "../../shared/async.ts";
import type { Json } from "../support/api_json.ts";
import type { LabHost } from "../support/netns_lab.ts";
import { toolPath } from "../support/ip_tools.ts";
import type { Fleet } from "./fleet.ts";
import { assertDriverComplete, LATE_FINAL, tsunami } from "./results.ts";

/** README "Drivers that die…": lost after 3 missed heartbeats of 1 s; the sweep runs every 100 ms. */
const LOST_AFTER_MS = 3 * 1_000 + 100;
/**
 * A loaded 2-core machine (3 JVMs and 12 Deno processes here, and whatever else runs) may hold
 * the orchestrator's sweep and the API's answer back (tests/faults/final_blocked_test.ts allows
 * the same); the poll itself runs every 50 ms.
 */
const LOST_SLACK_MS = 2_000;
const COUNT = 500;
const CONNECTIONS = 2;

/**
 * Pulls `victim`'s cable 1 s into a 10 s Tsunami (50/s) on `names`;
 * plugs it in again once the test has settled (a driver back while the test runs would be
 * counted on again).
 */
export async function cableCut(fleet: Fleet, names: string[], victim: string): Promise<void> {
  // The 14 s window bounds the victim's part: its connects time out (1 s) while it is cut off.
  const body = tsunami(fleet.targetUrl, 20, COUNT, {
    connections: CONNECTIONS,
    timeoutMs: 1_000,
    durationS: 14,
  });
  const host = fleet.driver(victim).host;
  await fleet.idle(names);
  const before = await fleet.targetReceived();
  const id = await fleet.run(body);
  try {
    // Mid-test, by what no Kafka delay holds back: 1 s after the driver's own "test started"
    // line, once its connections to the target are open (its warm-up done), seen on its host.
    await fleet.driver(victim).process.waitForOutput(
      new RegExp(`test started node_id=${victim} test_id=${id}`),
      60_000,
    );
    await sleep(1_000);
    const target = new URL(fleet.targetUrl).hostname;
    await fleet.until(
      `${victim} connected to the target in test ${id}`,
      async () => {
        const ss = await fleet.lab.exec(host, await toolPath("ss"), [
          ...["-Htn", "state", "established", "dst", target],
        ]);
        return ss.stdout.trim() !== "";
      },
      10_000,
      50,
    );
    await fleet.lab.linkDown(host);
    const cutAt = Date.now();
    const lost: Json = await fleet.until(
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
    // The orchestrator's silence starts at the last heartbeat it processed, which a busy machine
    // may process after the cut although it was sent before.
    const lastBeat = Date.parse(lost.last_heartbeat) - cutAt;
    fleet.say(
      `cable cut: ${victim} lost ${detectMs} ms after the cut; its last heartbeat was ` +
        `processed ${lastBeat} ms from the cut`,
    );
    assert.ok(
      detectMs <= LOST_AFTER_MS + LOST_SLACK_MS + Math.max(0, lastBeat),
      `lost ${detectMs} ms after the cut, ${detectMs - lastBeat} ms after its last heartbeat`,
    );

    const view = await fleet.settled(id);
    assert.equal(view.state, "finished", view.reason);
    assert.equal(view.drivers[victim].status, "lost");
    assert.equal(view.drivers[victim].lost_reason, "no heartbeat");
    assert.equal(view.drivers[victim].final, false);
    // On a busy machine a final report may take the orchestrator longer than the 3 s an idle
    // driver has (README "Drivers that die…"): such a driver is counted lost for that, not for
    // a silence, and its report still counts when it comes (checked below).
    const late = names.filter((n) => n !== victim && view.drivers[n].status === "lost");
    for (const name of late) {
      assert.equal(view.drivers[name].lost_reason, LATE_FINAL, `${name} lost`);
    }
    fleet.say(
      `cable cut: test ${view.state} (${view.reason}); counted lost for a late final report: ` +
        `${late.length === 0 ? "none" : late.join(", ")}`,
    );
  } finally {
    await fleet.lab.linkUp(host);
  }
  await reconcile(fleet, id, names, victim, before);
}

/**
 * Plugged in again, the victim's publisher delivers its final report (within the 30 s a settled
 * test still takes reports) and it is idle for the next test; every other driver's numbers are
 * complete. Every answered request reached the
 * target; of the failed ones only those in flight when the cable was pulled may have (one per
 * connection), possibly only after the link came back: the rest never left the host.
 */
async function reconcile(
  fleet: Fleet,
  id: string,
  names: string[],
  victim: string,
  before: number,
): Promise<void> {
  await fleet.idle([victim]);
  // Idle means its final report is delivered; the orchestrator reads metrics and heartbeats on
  // different topics, so the report may be read a little after the idle heartbeat.
  const view: Json = await fleet.until(
    `every driver's final report in test ${id}`,
    async () => {
      const view = await fleet.api("GET", `/api/tests/${id}`);
      return names.every((n) => view.drivers[n]?.final) && view;
    },
    20_000,
    250,
  );
  for (const name of names) {
    if (name !== victim) assertDriverComplete(view, name, COUNT, [LATE_FINAL]);
  }
  // A request in flight when the cable was pulled is retransmitted by the victim's kernel once
  // the link is back (its socket closed or not), after TCP's backed-off timeout: the target's
  // count is final once no socket of the victim's holds bytes for the target.
  const target = new URL(fleet.targetUrl).hostname;
  await fleet.until(
    `${victim}'s sockets to the target to have sent everything`,
    async () => (await unsentBytes(fleet, fleet.driver(victim).host, target)) === 0,
    30_000,
    250,
  );
  const v = view.drivers[victim];
  const received = (await fleet.targetReceived()) - before;
  const others = (names.length - 1) * COUNT;
  fleet.say(
    `cable cut: ${victim} back, final ${v.final}: ${v.requests} requests, ${v.responses} ` +
      `answered, ${v.errors} errors ${JSON.stringify(v.error_kinds)}, ${v.dropped} dropped; ` +
      `the target got ${received} = ${others} + ${received - others}`,
  );
  assert.equal(v.requests, v.responses + v.errors);
  assert.equal(view.overall.requests, others + v.requests);
  assert.ok(received >= others + v.responses, `the target got ${received}`);
  assert.ok(received <= others + v.responses + CONNECTIONS, `the target got ${received}`);
}

/** Bytes the sockets on `host` towards `target` have not had acknowledged (ss's Send-Q). */
async function unsentBytes(fleet: Fleet, host: LabHost, target: string): Promise<number> {
  const ss = await fleet.lab.exec(host, await toolPath("ss"), [
    ...["-Htn", "state", "all", "dst", target],
  ]);
  // "FIN-WAIT-1 0 78 198.18.0.13:41234 198.18.0.5:8080": state, Recv-Q, Send-Q, …
  return ss.stdout.trim().split("\n").filter((l) => l.trim() !== "")
    .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[2] ?? 0), 0);
}
