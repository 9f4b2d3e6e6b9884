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

/**
 * A publish that fails or succeeds as scripted (then succeeds), and a sleep that records each
 * backoff and returns at once: the retry logic runs without a clock or a broker.
 */
function scripted(script: ("fail" | "ok")[], retry = { initialMs: 250, maxMs: 1000 }) {
  const attempts: number[] = [];
  const delivered: number[] = [];
  const waits: number[] = [];
  const errors: [number, number][] = [];
  const publisher = new LatestPublisher<number>(
    (n) => {
      attempts.push(n);
      if (script.shift() === "fail") return Promise.reject(new Error("broker down"));
      delivered.push(n);
      return Promise.resolve();
    },
    (n, _err, failures) => errors.push([n, failures]),
    {
      retry,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
  );
  return { publisher, attempts, delivered, waits, errors };
}

Deno.test("with a retry policy a failed report is tried again after a growing backoff", async () => {
  const cases: {
    name: string;
    script: ("fail" | "ok")[];
    waits: number[];
    failures: number[];
  }[] = [
    { name: "delivered at once: no wait", script: ["ok"], waits: [], failures: [] },
    { name: "one failure: one initial wait", script: ["fail"], waits: [250], failures: [1] },
    {
      name: "three failures: 250, 500, 1000 ms",
      script: ["fail", "fail", "fail"],
      waits: [250, 500, 1000],
      failures: [1, 2, 3],
    },
    {
      name: "a long outage stays at the cap",
      script: ["fail", "fail", "fail", "fail", "fail", "fail"],
      waits: [250, 500, 1000, 1000, 1000, 1000],
      failures: [1, 2, 3, 4, 5, 6],
    },
  ];
  for (const c of cases) {
    const s = scripted([...c.script]);
    s.publisher.offer(7);
    await s.publisher.flush();
    assert.deepEqual(s.delivered, [7], `${c.name}: delivered in the end`);
    assert.equal(s.attempts.length, c.script.length + (c.script.at(-1) === "ok" ? 0 : 1), c.name);
    assert.deepEqual(s.waits, c.waits, `${c.name}: waits`);
    assert.deepEqual(s.errors.map(([, f]) => f), c.failures, `${c.name}: failures reported`);
    assert.equal(s.publisher.failures, 0, `${c.name}: reset by the success`);
  }
});

Deno.test("the backoff starts over after a success", async () => {
  const s = scripted(["fail", "fail", "ok", "fail", "ok"]);
  s.publisher.offer(1);
  await s.publisher.flush();
  s.publisher.offer(2);
  await s.publisher.flush();
  assert.deepEqual(s.waits, [250, 500, 250]);
  assert.deepEqual(s.delivered, [1, 2]);
});

Deno.test("while a report is being retried, a newer one replaces it: only the newest goes", async () => {
  let fail = true;
  const attempts: number[] = [];
  let resumeSleep: () => void = () => {};
  const p = new LatestPublisher<number>(
    (n) => {
      attempts.push(n);
      return fail ? Promise.reject(new Error("down")) : Promise.resolve();
    },
    () => {},
    {
      retry: { initialMs: 250, maxMs: 1000 },
      sleep: () => new Promise((resolve) => resumeSleep = resolve),
    },
  );
  p.offer(1);
  await new Promise((r) => setTimeout(r, 0)); // 1 failed; the publisher waits
  p.offer(2);
  p.offer(3);
  fail = false;
  resumeSleep();
  await p.flush();
  assert.deepEqual(attempts, [1, 3], "the failed 1 and the waiting 2 were superseded by 3");
  assert.equal(p.superseded, 2);
});

Deno.test("settle() is bounded: a publish that hangs is abandoned after the timeout", async () => {
  const p = new LatestPublisher<number>(() => new Promise<void>(() => {}), () => {}, {
    retry: { initialMs: 1, maxMs: 1 },
  });
  p.offer(1);
  p.offer(2); // waits behind the hanging 1
  const started = performance.now();
  assert.equal(await p.settle(30), false);
  assert.ok(performance.now() - started >= 29, "not before the timeout");
  assert.equal(p.abandoned, true);
  p.offer(3); // ignored once abandoned
  await p.flush();
});

Deno.test("settle() resolves true once a retried final report is out", async () => {
  const s = scripted(["fail", "fail"]);
  s.publisher.offer(9);
  assert.equal(await s.publisher.settle(10_000), true);
  assert.deepEqual(s.delivered, [9]);
});

Deno.test("abandon() during the backoff stops the retries at once", async () => {
  const attempts: number[] = [];
  const p = new LatestPublisher<number>(
    (n) => (attempts.push(n), Promise.reject(new Error("down"))),
    () => {},
    { retry: { initialMs: 60_000, maxMs: 60_000 } }, // the real sleep: abandon must cut it short
  );
  p.offer(1);
  await new Promise((r) => setTimeout(r, 10));
  p.abandon();
  await p.flush();
  assert.deepEqual(attempts, [1]);
});
