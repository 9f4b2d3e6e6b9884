import assert from "node:assert/strict";
import { LinkMonitor } from "../../shared/link_monitor.ts";

const STALE = 1000;

Deno.test("link: down with nothing watched; up from the first consumer that joined", () => {
  const link = new LinkMonitor(STALE, 0);
  assert.deepEqual(link.state(0), { connected: false, since: 0, heardAt: 0 }, "nothing watched");
  link.watch("a", 10);
  assert.deepEqual(link.state(20), { connected: true, since: 10, heardAt: 10 });
  link.watch("b", 500); // a second consumer joining keeps the link up, and its since
  assert.deepEqual(link.state(600), { connected: true, since: 10, heardAt: 10 });
});

Deno.test("link: a consumer silent for longer than staleMs makes the link down since it was last heard", () => {
  const link = new LinkMonitor(STALE, 0);
  link.watch("a", 100);
  link.watch("b", 100);
  link.heard("a", 1000);
  // b keeps fetching until 2000; a falls silent after 1000.
  const cases: [number, boolean, number, number][] = [
    // now, connected, since, heardAt (the older of the two last answers)
    [1000, true, 100, 1000],
    [2000, true, 100, 1000], // a heard at 1000, within staleMs
    [2001, false, 1000, 1000], // a silent for 1001 ms: down since it was last heard
    [5000, false, 1000, 1000],
  ];
  for (const [now, connected, since, heardAt] of cases) {
    if (now <= 2000) link.heard("b", now);
    assert.deepEqual(link.state(now), { connected, since, heardAt }, `at ${now}`);
  }
  link.heard("a", 12_000);
  assert.deepEqual(
    link.state(12_000),
    { connected: false, since: 1000, heardAt: 2000 },
    "b is silent now",
  );
  link.heard("b", 12_500);
  assert.deepEqual(link.state(12_600), { connected: true, since: 12_500, heardAt: 12_000 });
});

Deno.test("link: a silence nobody asked about still counts once the consumer is heard again", () => {
  const link = new LinkMonitor(STALE, 0);
  link.watch("a", 0);
  assert.equal(link.state(500).connected, true);
  // No state() call during the gap: the next fetch still closes a 10 s outage.
  link.heard("a", 10_000);
  assert.deepEqual(link.state(10_000), { connected: true, since: 10_000, heardAt: 10_000 });
});

Deno.test("link: a consumer handling a long batch is not deaf; a crash is deaf at once", () => {
  const link = new LinkMonitor(STALE, 0);
  link.watch("a", 0);
  link.busy("a", true, 100);
  assert.deepEqual(
    link.state(5000),
    { connected: true, since: 0, heardAt: 5000 },
    "busy for 4.9 s: the handler, not the broker",
  );
  link.busy("a", false, 5000);
  assert.equal(link.state(5900).connected, true);
  link.crashed("a", 6000);
  assert.deepEqual(link.state(6000), { connected: false, since: 5000, heardAt: 5000 });
  link.heard("a", 7000);
  assert.deepEqual(link.state(7000), { connected: true, since: 7000, heardAt: 7000 });
});

Deno.test("link: unwatching the deaf consumer restores the link; unwatching all drops it", () => {
  const link = new LinkMonitor(STALE, 0);
  link.watch("a", 0);
  link.watch("b", 0);
  link.heard("a", 1100);
  assert.deepEqual(link.state(1100), { connected: false, since: 0, heardAt: 0 }, "b silent 1.1 s");
  link.unwatch("b", 1200);
  assert.deepEqual(link.state(1200), { connected: true, since: 1200, heardAt: 1100 });
  link.unwatch("a", 1300);
  assert.deepEqual(link.state(1300), { connected: false, since: 1300, heardAt: 1300 });
  link.heard("a", 1400); // unknown now: ignored
  assert.equal(link.state(1400).connected, false);
});
