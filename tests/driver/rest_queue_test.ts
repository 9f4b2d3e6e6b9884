/**
 * The closed model's rests on one timer: each rest ends at its time or later, never early, in
 * time order whatever order they were taken in, and all at once on wakeAll().
 */
import assert from "node:assert/strict";
import { RestQueue } from "../../driver/rest_queue.ts";

Deno.test("RestQueue: rests end in time order and never early", async () => {
  const queue = new RestQueue();
  const now = performance.now();
  // Out of order, with ties and rests a hair apart, as a thousand connections failing together.
  const offsets = [30, 5, 20, 5, 12, 0, 25, 12.5, 1, 17];
  const ended: { offset: number; lateMs: number }[] = [];
  await Promise.all(offsets.map((offset) =>
    queue.until(now + offset).then(() => {
      ended.push({ offset, lateMs: performance.now() - (now + offset) });
    })
  ));
  assert.deepEqual(ended.map((e) => e.offset), [...offsets].sort((a, b) => a - b));
  for (const e of ended) {
    assert.ok(e.lateMs >= 0, `the ${e.offset} ms rest ended ${-e.lateMs} ms early`);
  }
  assert.equal(queue.size, 0);
});

Deno.test("RestQueue: wakeAll() ends every rest now and leaves no timer behind", async () => {
  const queue = new RestQueue();
  const far = performance.now() + 60_000;
  const rests = [queue.until(far), queue.until(far + 1), queue.until(far - 1)];
  assert.equal(queue.size, 3);
  const before = performance.now();
  queue.wakeAll();
  await Promise.all(rests);
  assert.ok(performance.now() - before < 1_000, "woken at once");
  assert.equal(queue.size, 0);
  // The test's timer sanitizer fails it if a timer were still armed here.
});

Deno.test("RestQueue: a rest already due ends on the next turn", async () => {
  const queue = new RestQueue();
  let ended = false;
  const rest = queue.until(performance.now() - 5).then(() => ended = true);
  assert.equal(ended, false, "never synchronously");
  await rest;
  assert.equal(ended, true);
});
