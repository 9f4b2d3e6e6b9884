import assert from "node:assert/strict";
import { isTransient } from "../../shared/bus.ts";
import { handleUntilDone, retryPauseMs } from "../../shared/redelivery.ts";

/** An error the bus must not skip, as the orchestrator's StorageError is. */
class NotNow extends Error {
  readonly transient = true;
}

/** A handler that throws `errors` one after the other, then succeeds. */
function scripted(errors: Error[]) {
  const calls = { n: 0 };
  const handle = () => {
    const err = errors[calls.n++];
    if (err) throw err;
  };
  return { handle, calls };
}

Deno.test("isTransient(): only an error that says transient: true", () => {
  const table: [string, unknown, boolean][] = [
    ["transient error", new NotNow("full"), true],
    ["plain error", new Error("boom"), false],
    ["truthy but not true", Object.assign(new Error("x"), { transient: "yes" }), false],
    ["not an object", "transient", false],
    ["null", null, false],
  ];
  for (const [name, err, want] of table) assert.equal(isTransient(err), want, name);
});

Deno.test("retryPauseMs(): doubles from 250 ms and stays at 5 s", () => {
  const table: [number, number][] = [[1, 250], [2, 500], [3, 1000], [4, 2000], [5, 4000], [
    6,
    5000,
  ], [1000, 5000]];
  for (const [attempt, want] of table) assert.equal(retryPauseMs(attempt), want, `#${attempt}`);
});

Deno.test("handleUntilDone(): a transient failure is retried after growing pauses", async () => {
  const { handle, calls } = scripted([new NotNow("full"), new NotNow("full")]);
  const retries: [number, number][] = [];
  let heartbeats = 0;
  const attempts = await handleUntilDone(handle, {
    heartbeat: () => Promise.resolve(void heartbeats++),
    signal: new AbortController().signal,
    onRetry: (_err, attempt, pauseMs) => retries.push([attempt, pauseMs]),
  });
  assert.equal(attempts, 3);
  assert.equal(calls.n, 3);
  assert.deepEqual(retries, [[1, 250], [2, 500]]);
  assert.equal(heartbeats, 2, "one heartbeat per pause step of at most 1 s");
});

Deno.test("handleUntilDone(): any other error is thrown at once, to be skipped", async () => {
  const boom = new Error("boom");
  const { handle, calls } = scripted([boom]);
  await assert.rejects(
    handleUntilDone(handle, {
      heartbeat: () => Promise.resolve(),
      signal: new AbortController().signal,
      onRetry: () => assert.fail("not retried"),
    }),
    (err) => err === boom,
  );
  assert.equal(calls.n, 1);
});

Deno.test("handleUntilDone(): closing or a failed heartbeat ends the wait with the transient error", async () => {
  const full = new NotNow("full");
  const always = () => {
    throw full;
  };
  const stop = new AbortController();
  const started = performance.now();
  const closing = handleUntilDone(always, {
    heartbeat: () => Promise.resolve(),
    signal: stop.signal,
    onRetry: () => stop.abort(),
  });
  await assert.rejects(closing, (err) => err === full);
  assert.ok(performance.now() - started < 250, "the pause is cut short");

  const rebalancing = handleUntilDone(always, {
    heartbeat: () => Promise.reject(new Error("The group is rebalancing")),
    signal: new AbortController().signal,
    onRetry: () => {},
  });
  await assert.rejects(rebalancing, (err) => err === full, "not skipped as a handler error");
});
