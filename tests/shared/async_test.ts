import assert from "node:assert/strict";
import { PollTimeoutError, pollUntil, sleep } from "../../shared/async.ts";

/** A check that returns `results` one after the other (throwing the Error ones), then the last. */
function scripted<T>(results: (T | Error)[]) {
  const calls = { n: 0 };
  const check = () => {
    const r = results[Math.min(calls.n++, results.length - 1)];
    if (r instanceof Error) throw r;
    return r as T;
  };
  return { check, calls };
}

const resolving: { name: string; results: unknown[]; value: unknown; calls: number }[] = [
  { name: "truthy at once", results: ["ready"], value: "ready", calls: 1 },
  { name: "after falsy values", results: [0, "", null, undefined, false, 7], value: 7, calls: 6 },
  {
    name: "after thrown errors",
    results: [new Error("refused"), new Error("refused"), true],
    value: true,
    calls: 3,
  },
  { name: "an object", results: [undefined, { id: 1 }], value: { id: 1 }, calls: 2 },
];

for (const row of resolving) {
  Deno.test(`pollUntil resolves with the first truthy result: ${row.name}`, async () => {
    const { check, calls } = scripted(row.results);
    const value = await pollUntil(check, { what: "it", timeoutMs: 2000, intervalMs: 1 });
    assert.deepEqual(value, row.value);
    assert.equal(calls.n, row.calls, "no check after the truthy one");
  });
}

Deno.test("pollUntil awaits an async check", async () => {
  let n = 0;
  const value = await pollUntil(async () => {
    await sleep(1);
    return ++n >= 3 ? "done" : undefined;
  }, { what: "three rounds", timeoutMs: 2000, intervalMs: 1 });
  assert.equal(value, "done");
});

Deno.test("pollUntil's timeout names what it waited for and keeps the last error", async () => {
  const { check, calls } = scripted<boolean>([new Error("first"), false, new Error("last")]);
  const started = Date.now();
  const err = await pollUntil(check, { what: "the broker", timeoutMs: 120, intervalMs: 20 })
    .then(() => assert.fail("resolved"), (e: unknown) => e);
  const took = Date.now() - started;
  assert.ok(err instanceof PollTimeoutError);
  assert.equal(err.message, "timed out after 120 ms waiting for the broker");
  assert.equal(err.what, "the broker");
  assert.equal(err.timeoutMs, 120);
  assert.equal((err.cause as Error).message, "last");
  assert.ok(took >= 120 && took < 1000, `took ${took} ms`);
  assert.ok(calls.n >= 3, `checked ${calls.n} times`);
});

Deno.test("pollUntil checks once even with no time at all", async () => {
  const { check, calls } = scripted([false]);
  await assert.rejects(pollUntil(check, { what: "x", timeoutMs: 0 }), PollTimeoutError);
  assert.equal(calls.n, 1);
  assert.equal(await pollUntil(() => "at once", { what: "x", timeoutMs: 0 }), "at once");
});

Deno.test("pollUntil stops at once when its signal is aborted, with the signal's reason", async () => {
  const controller = new AbortController();
  const { check, calls } = scripted([false]);
  const started = Date.now();
  const waiting = pollUntil(check, {
    what: "never",
    timeoutMs: 60_000,
    intervalMs: 10_000,
    signal: controller.signal,
  });
  await sleep(20);
  const reason = new Error("interrupted");
  controller.abort(reason);
  await assert.rejects(waiting, (err) => err === reason);
  assert.ok(Date.now() - started < 1000, "did not sit out the 10 s interval");
  assert.equal(calls.n, 1, "no check after the abort");
});

Deno.test("pollUntil with an aborted signal rejects without checking", async () => {
  const { check, calls } = scripted([true]);
  await assert.rejects(
    pollUntil(check, { what: "x", timeoutMs: 1000, signal: AbortSignal.abort() }),
    (err: Error) => err.name === "AbortError",
  );
  assert.equal(calls.n, 0);
});

Deno.test("sleep waits, and an abort cuts it short without rejecting", async () => {
  let started = performance.now();
  await sleep(30);
  assert.ok(performance.now() - started >= 29);

  const controller = new AbortController();
  started = performance.now();
  const sleeping = sleep(10_000, controller.signal);
  setTimeout(() => controller.abort(), 10);
  await sleeping; // resolves; the sanitizer fails the test if the 10 s timer were left behind
  assert.ok(performance.now() - started < 1000);

  started = performance.now();
  await sleep(10_000, AbortSignal.abort());
  assert.ok(performance.now() - started < 100);
});
