import assert from "node:assert/strict";
import { LatestPublisher } from "../../driver/latest_publisher.ts";

/** A publish whose calls complete only when the test says so. */
function slowBus() {
  const sent: number[] = [];
  const pending: (() => void)[] = [];
  const publish = (n: number) =>
    new Promise<void>((resolve) => {
      sent.push(n);
      pending.push(resolve);
    });
  const completeOne = async () => {
    pending.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { sent, publish, completeOne };
}

Deno.test("while a publish is in flight only the newest report waits; order is kept", async () => {
  const bus = slowBus();
  const p = new LatestPublisher<number>(bus.publish, () => {});
  p.offer(1); // goes out at once
  p.offer(2);
  p.offer(3);
  p.offer(4); // 2 and 3 are superseded by 4
  assert.deepEqual(bus.sent, [1]);
  await bus.completeOne();
  assert.deepEqual(bus.sent, [1, 4]);
  assert.equal(p.superseded, 2);
  await bus.completeOne();
  await p.flush();
  assert.deepEqual(bus.sent, [1, 4]);
});

Deno.test("a failed publish is reported and the next report still goes out", async () => {
  const failures: [number, string][] = [];
  const sent: number[] = [];
  const p = new LatestPublisher<number>(
    (n) => n === 1 ? Promise.reject(new Error("broker down")) : (sent.push(n), Promise.resolve()),
    (n, err) => failures.push([n, (err as Error).message]),
  );
  p.offer(1);
  await p.flush();
  p.offer(2);
  await p.flush();
  assert.deepEqual(failures, [[1, "broker down"]]);
  assert.deepEqual(sent, [2]);
});

Deno.test("flush() waits for the last offered message (the final report)", async () => {
  const bus = slowBus();
  const p = new LatestPublisher<number>(bus.publish, () => {});
  p.offer(1);
  p.offer(2);
  let flushed = false;
  const done = p.flush().then(() => flushed = true);
  await bus.completeOne();
  assert.equal(flushed, false, "2 is still in flight");
  await bus.completeOne();
  await done;
  assert.deepEqual(bus.sent, [1, 2]);
});

Deno.test("a publish that fails at once (synchronously) neither hangs flush() nor strands a report", async () => {
  const failures: number[] = [];
  const sent: number[] = [];
  const p = new LatestPublisher<number>((n) => {
    if (n === 1) throw new TypeError("invalid message");
    sent.push(n);
    return Promise.resolve();
  }, (n) => failures.push(n));
  p.offer(1);
  await p.flush();
  p.offer(2);
  await p.flush();
  assert.deepEqual(failures, [1]);
  assert.deepEqual(sent, [2]);
});
