import assert from "node:assert/strict";
import { DriverWatch, IDLE_GRACE_MS } from "../../orchestrator/driver_watch.ts";
import type { TestRecord } from "../../orchestrator/store.ts";

const RECORD = {
  test_id: "t1",
  lifecycle: { state: "running", drivers: { one: "running" } },
} as unknown as TestRecord;
const beat = (testId: string | null) => ({
  node_id: "one",
  heartbeat: "YES" as const,
  timestamp: 0,
  test_id: testId,
});

Deno.test("DriverWatch: idle time counts from countFrom at the earliest", () => {
  // Busy at 0, idle from 1,000: lost at 1,000 + grace, unless idle time counts from later
  // (the metrics consumer joined its group at 9,000 after a restart).
  const table: [string, number, number, boolean][] = [
    ["within the grace", 1000 + IDLE_GRACE_MS - 1, -Infinity, false],
    ["past the grace", 1000 + IDLE_GRACE_MS, -Infinity, true],
    ["past the grace, but counted from a later start", 9000 + IDLE_GRACE_MS - 1, 9000, false],
    ["past the grace from the later start", 9000 + IDLE_GRACE_MS, 9000, true],
    ["a countFrom before the idle beat changes nothing", 1000 + IDLE_GRACE_MS, 500, true],
  ];
  for (const [name, now, countFrom, lost] of table) {
    const watch = new DriverWatch();
    watch.seen([RECORD], beat("t1"), 0);
    watch.seen([RECORD], beat(null), 1000);
    const events = watch.sweep([RECORD], now, countFrom);
    assert.equal(events.length, lost ? 1 : 0, name);
  }
});
