/**
 * The orchestrator with reports whose histograms continue from the driver's previous one: one
 * that continues from a report it did not take is counted (`metrics_unchained`) and not stored,
 * and a restart replays the stored chain into exactly the figures it had.
 */
import assert from "node:assert/strict";
import { MemoryBus } from "../../shared/bus.ts";
import { Store } from "../../orchestrator/store.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { createHarness, type Harness, ManualClock } from "./harness.ts";
import { RUN_ONE, RUN_TWO, triggered } from "./two_drivers.ts";

const tagged = (h: Harness, run: string) => ({ timestamp: h.clock.t, instance_id: run });

Deno.test("continuing reports: a gap is counted and skipped, and a restart replays the chain", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-chain-" });
  const path = `${dir}/surge.sqlite`;
  const clock = new ManualClock();
  const one = new FakeDriver("one", "t1");
  const two = new FakeDriver("two", "t1");
  try {
    const first = await createHarness({ store: new Store(path), bus: new MemoryBus(), clock });
    let before;
    let series;
    try {
      await triggered(first);
      const send = async (
        d: FakeDriver,
        run: string,
        seed: number,
        elapsed: number,
        how: string,
      ) => {
        d.record(latencies(seed, 50, 1000 * seed, 500), seed % 2);
        const report = how === "cumulative" ? d.report(elapsed) : d.continuing(elapsed);
        if (how !== "lost") await first.metrics({ ...report, ...tagged(first, run) });
        clock.advance(100);
      };
      await send(one, RUN_ONE, 1, 1000, "cumulative");
      await send(two, RUN_TWO, 2, 1000, "cumulative");
      await send(one, RUN_ONE, 3, 2000, "continuing");
      await send(two, RUN_TWO, 4, 2000, "lost");
      await send(one, RUN_ONE, 5, 3000, "continuing");
      await send(two, RUN_TWO, 6, 3000, "continuing"); // continues from the lost one
      assert.equal(first.controller.counters.metrics_unchained, 1);
      assert.equal(first.store.snapshots("t1").length, 4);
      before = first.controller.getTest("t1");
      assert.equal(before.drivers.one?.responses, 150);
      assert.equal(before.drivers.two?.responses, 50, "as of its last report taken");
      await send(two, RUN_TWO, 7, 4000, "cumulative");
      before = first.controller.getTest("t1");
      assert.equal(before.drivers.two?.responses, 200, "the cumulative report catches up");
      assert.equal(before.overall.errors, one.errors + two.errors);
      series = first.controller.timeseries("t1");
    } finally {
      await first.close();
    }
    const second = await createHarness({ store: new Store(path), bus: new MemoryBus(), clock });
    try {
      const after = second.controller.getTest("t1");
      assert.deepEqual(after.overall, before.overall);
      assert.deepEqual(after.drivers.one, before.drivers.one);
      assert.deepEqual(second.controller.timeseries("t1"), series);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
