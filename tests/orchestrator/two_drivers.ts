/**
 * The set-up the acceptance tests share: drivers "one" and "two" alive with known runs, test t1
 * triggered on both, and their reports stamped and tagged as a real driver's are.
 */
import { FakeDriver, latencies } from "./fake_driver.ts";
import { avalanche, type Harness } from "./harness.ts";

/** Driver one's run (instance id). */
export const RUN_ONE = "run-one-a";
/** Driver two's run (instance id). */
export const RUN_TWO = "run-two-a";

/** Drivers one and two alive (with known runs) and test t1 (10 s) triggered on both. */
export async function triggered(h: Harness): Promise<void> {
  await h.heartbeat("one", null, RUN_ONE);
  await h.heartbeat("two", null, RUN_TWO);
  await h.controller.createTest(avalanche({ duration_s: 10 }));
  await h.controller.trigger("t1");
  await h.heartbeat("one", "t1", RUN_ONE);
  await h.heartbeat("two", "t1", RUN_TWO);
}

/** A driver's report stamped by the harness clock and tagged with its run. */
export const report = (h: Harness, d: FakeDriver, run: string, elapsed: number, final = false) => ({
  ...d.report(elapsed, final),
  timestamp: h.clock.t,
  instance_id: run,
});

/**
 * t1 triggered, then settled: one sends its final report (30 responses), two falls silent for
 * 3.5 s and is lost. Returns both drivers; two's 20 responses were never reported.
 */
export async function settledWithTwoLost(
  h: Harness,
  seeds: [number, number],
): Promise<{ one: FakeDriver; two: FakeDriver }> {
  await triggered(h);
  const one = new FakeDriver("one", "t1").record(latencies(seeds[0], 30, 1000, 10));
  const two = new FakeDriver("two", "t1").record(latencies(seeds[1], 20, 1000, 10));
  await h.metrics(report(h, one, RUN_ONE, 1000, true));
  h.clock.advance(3500);
  h.controller.tick(); // two: no heartbeat for 3.5 s → lost; the test settles
  return { one, two };
}
