/**
 * A driver's link slowed down and lossy, on real hosts: 50 ms of delay and 1 % loss on every
 * frame the driver sends (what `tc qdisc add dev eth0 root netem delay 50ms loss 1%` on its host
 * does; the lab's wire does it in userspace where the kernel has no netem). The test completes
 * exactly, and the orchestrator's view of that driver stays within the staleness bound plus the
 * added delay.
 *
 * **The view's age.** Every driver stamps each report with the time it took it (`reported_at`),
 * and all the lab's hosts share this machine's clock, so at each poll of `GET /api/tests/{id}`
 * the age of what the orchestrator shows for a driver is exact: the poll's answer time less the
 * shown report's `reported_at`. It covers the report interval (500 ms), the trip through the
 * slowed link and Kafka, and the orchestrator's processing; unlike the count-behind-timetable
 * measure of bench/staleness.ts (printed beside it), it does not count a generator that fell
 * behind its timetable on a busy machine as staleness. The first and last second of each
 * driver's run are left out: they measure start-up and the final report.
 */
import assert from "node:assert/strict";
import { sleep } from "../../shared/async.ts";
import type { Json } from "../support/api_json.ts";
import { CLEAR } from "../support/delay_line.ts";
import type { Fleet } from "./fleet.ts";
import { assertComplete, LATE_FINAL, percentile, tsunami } from "./results.ts";

/** README "Staleness": the orchestrator's view of every driver is at most about a second old. */
const STALENESS_BOUND_MS = 1_000;
const NETEM = { delayMs: 50, loss: 0.01 };
/**
 * A report that meets the 1 % loss waits for TCP's retransmission: at least 200 ms (Linux's
 * minimum RTO), twice that if the retransmission is lost too.
 */
const LOSS_SLACK_MS = 400;
const COUNT = 400;
const DELAY_MS = 20;

/** One answer of `GET /api/tests/{id}` and when it came. */
interface Poll {
  at: number;
  view: Json;
}

/**
 * The ages of the view of driver `name` in the polls of the middle of its run, in ms. A poll
 * that shows no report of it yet shows a view as old as its run.
 */
export function viewAges(polls: Poll[], final: Json, name: string): number[] {
  const end = Date.parse(final.reported_at);
  const start = end - final.elapsed_s * 1_000;
  return polls.filter(({ at }) => at >= start + 1_000 && at <= end - 1_000)
    .map(({ at, view }) => {
      const shown = view.drivers[name]?.reported_at;
      return at - (shown ? Date.parse(shown) : start);
    });
}

/** bench/staleness.ts's measure: how far the shown count is behind the driver's timetable. */
export function timetableLags(polls: Poll[], final: Json, name: string): number[] {
  const end = Date.parse(final.reported_at);
  const start = end - final.elapsed_s * 1_000;
  return polls.filter(({ at }) => at >= start + 1_000 && at <= end - 1_000)
    .map(({ at, view }) => (at - start) - (view.drivers[name]?.responses ?? 0) * DELAY_MS);
}

const figures = (xs: number[]) =>
  `p50 ${percentile(xs, 50).toFixed(0)}, p99 ${percentile(xs, 99).toFixed(0)}, ` +
  `max ${Math.max(...xs).toFixed(0)} ms`;

/** Slows `victim`'s link for an 8 s Tsunami at 50 requests/s on `names`. */
export async function slowLink(fleet: Fleet, names: string[], victim: string): Promise<void> {
  const body = tsunami(fleet.targetUrl, DELAY_MS, COUNT, {
    connections: 16, // 50/s × (50 ms + a 200–400 ms retransmission) with room to spare
    timeoutMs: 5_000,
    durationS: 30,
  });
  const host = fleet.driver(victim).host;
  await fleet.idle(names);
  await fleet.lab.impair(host, NETEM);
  try {
    const before = await fleet.targetReceived();
    const id = await fleet.run(body);
    const polls: Poll[] = [];
    for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
      const view = await fleet.api("GET", `/api/tests/${id}`);
      polls.push({ at: Date.now(), view });
      if (view.settled) break;
      await sleep(100);
    }
    const { view } = await fleet.complete(id, names);
    const received = (await fleet.targetReceived()) - before;
    assertComplete(view, names, COUNT, [LATE_FINAL]);
    assert.equal(received, names.length * COUNT, "the target's own count");
    // The delay is real: every request of the victim waited for it (less HDR's 0.1 % rounding).
    const latency = view.drivers[victim].latency_ms;
    assert.ok(latency.min >= NETEM.delayMs * 0.999, `${victim}'s fastest took ${latency.min} ms`);

    const others = names.filter((n) => n !== victim);
    const slowed = viewAges(polls, view.drivers[victim], victim);
    const rest = others.flatMap((n) => viewAges(polls, view.drivers[n], n));
    const lags = timetableLags(polls, view.drivers[victim], victim);
    const restLags = others.flatMap((n) => timetableLags(polls, view.drivers[n], n));
    fleet.say(
      `slow link (${NETEM.delayMs} ms, ${NETEM.loss * 100} % loss on ${victim}, ` +
        `${slowed.length} polls): view age of ${victim} ${figures(slowed)}; of the other ` +
        `drivers ${figures(rest)}. Behind the timetable: ${victim} ${figures(lags)}; others ` +
        `${figures(restLags)}. ${victim}'s latency p50 ${latency.median} ms, p99 ${latency.p99} ms`,
    );
    assert.ok(slowed.length >= 5, `only ${slowed.length} polls in the middle of the test`);
    // The bound is README's 1 s; on a machine too busy to keep it even for the drivers on clean
    // links, it is what they got in this same run.
    const clean = Math.max(STALENESS_BOUND_MS, ...rest);
    const bound = clean + NETEM.delayMs + LOSS_SLACK_MS;
    assert.ok(Math.max(...slowed) <= bound, `${victim}'s view was up to ${figures(slowed)} old`);
  } finally {
    await fleet.lab.impair(host, CLEAR);
  }
}
