import assert from "node:assert/strict";
import { connectTicker, spawnTicker, stopTicker, tickerWaker } from "../../driver/ticker.ts";

Deno.test("the ticker thread wakes at the armed time, never early, well inside timer jitter", async () => {
  const thread = spawnTicker();
  await thread.ready;
  const port = connectTicker(thread);
  const lateness: number[] = [];
  let target = 0;
  let resolve!: () => void;
  const finished = new Promise<void>((r) => resolve = r);
  const waker = tickerWaker({ shared: thread.shared, port }, () => {
    lateness.push(performance.now() - target);
    if (lateness.length === 40) return resolve();
    target = performance.now() + 3;
    waker.wakeAt(target);
  });
  try {
    target = performance.now() + 3;
    waker.wakeAt(target);
    await finished;
  } finally {
    waker.close();
    stopTicker(thread);
  }
  lateness.sort((a, b) => a - b);
  assert.ok(lateness[0]! >= -0.01, `woke ${-lateness[0]!} ms early`);
  // setTimeout here is 1-2 ms late at the median; the ticker should be a fraction of that.
  assert.ok(lateness[20]! < 1, `median lateness ${lateness[20]} ms`);
});
