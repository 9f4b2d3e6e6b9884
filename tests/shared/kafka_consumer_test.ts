/**
 * {@link KafkaSubscription} on a fake kafkajs consumer: crashes kafkajs restarts by itself are
 * left to it; a consumer stopped for good is replaced, with backoff, until one runs.
 */
import assert from "node:assert/strict";
import type { Consumer } from "kafkajs";
import { KafkaSubscription } from "../../shared/kafka_consumer.ts";
import { LinkMonitor } from "../../shared/link_monitor.ts";
import { createLogger } from "../../shared/log.ts";
import { eventually } from "../support/processes.ts";

/** kafkajs's event names, as `consumer.events` spells them. */
const EVENTS = {
  GROUP_JOIN: "consumer.group_join",
  FETCH: "consumer.fetch",
  START_BATCH_PROCESS: "consumer.start_batch_process",
  END_BATCH_PROCESS: "consumer.end_batch_process",
  CRASH: "consumer.crash",
};

/** Just enough of a kafkajs consumer: records calls, emits what the test says. */
class FakeConsumer {
  readonly events = EVENTS;
  readonly calls: string[] = [];
  #listeners = new Map<string, Set<(e: unknown) => void>>();
  constructor(readonly failRun = false, readonly joins = true) {}
  on(name: string, fn: (e: unknown) => void) {
    const set = this.#listeners.get(name) ?? new Set();
    set.add(fn);
    this.#listeners.set(name, set);
    return () => set.delete(fn);
  }
  emit(name: string, payload: unknown = {}) {
    for (const fn of [...(this.#listeners.get(name) ?? [])]) fn({ type: name, payload });
  }
  connect() {
    this.calls.push("connect");
    return Promise.resolve();
  }
  subscribe() {
    this.calls.push("subscribe");
    return Promise.resolve();
  }
  /** What run() was given, and the commits asked for; `failCommits` of them fail first. */
  runOptions:
    | { autoCommit?: boolean; eachMessage: (payload: unknown) => Promise<void> }
    | undefined;
  commits: { topic: string; partition: number; offset: string }[][] = [];
  failCommits = 0;
  /** Commits that never answer, as with a broker that went away mid-request. */
  hangCommits = false;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]) {
    this.calls.push("commit");
    this.commits.push(offsets);
    if (this.hangCommits) return new Promise<void>(() => {});
    return this.failCommits-- > 0 ? Promise.reject(new Error("broker away")) : Promise.resolve();
  }
  run(options?: FakeConsumer["runOptions"]) {
    this.runOptions = options;
    this.calls.push("run");
    if (this.failRun) return Promise.reject(new Error("broker still away"));
    // A real consumer joins its group shortly after run().
    if (this.joins) setTimeout(() => this.emit(EVENTS.GROUP_JOIN), 0);
    return Promise.resolve();
  }
  disconnect() {
    this.calls.push("disconnect");
    return Promise.resolve();
  }
}

/**
 * `failRun[i]`: the i-th consumer's run() fails; `joins[i]` false: it never joins its group;
 * with `commitEveryMs` the subscription commits offsets itself.
 */
function setup(failRun: boolean[], joins: boolean[] = [], commitEveryMs?: number) {
  const consumers: FakeConsumer[] = [];
  let t = 0;
  const link = new LinkMonitor(1000, 0);
  const subscription = new KafkaSubscription({
    create: () => {
      const i = consumers.length;
      const fake = new FakeConsumer(failRun[i] ?? false, joins[i] ?? true);
      consumers.push(fake);
      return fake as unknown as Consumer;
    },
    topics: ["t"],
    fromBeginning: false,
    eachMessage: () => Promise.resolve(),
    link,
    logger: createLogger({}, { level: "error", sink: () => {} }),
    now: () => t,
    restart: { initialMs: 1, maxMs: 4 },
    ...(commitEveryMs === undefined ? {} : { commitEveryMs }),
  });
  return { consumers, link, subscription, at: (now: number) => t = now };
}

Deno.test("subscription: fetches keep the link up; a crash kafkajs restarts leaves the consumer alone", async () => {
  const { consumers, link, subscription, at } = setup([]);
  await subscription.start();
  try {
    const [first] = consumers;
    assert.deepEqual(first!.calls, ["connect", "subscribe", "run"]);
    assert.equal(link.state(0).connected, true);
    at(900);
    first!.emit(EVENTS.FETCH);
    at(1800);
    assert.equal(link.state(1800).connected, true, "heard at 900");
    first!.emit(EVENTS.CRASH, { error: new Error("ECONNREFUSED"), restart: true });
    assert.deepEqual(link.state(1800), { connected: false, since: 900, heardAt: 900 });
    at(2000);
    first!.emit(EVENTS.FETCH); // kafkajs restarted it
    assert.deepEqual(link.state(2000), { connected: true, since: 2000, heardAt: 2000 });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(consumers.length, 1, "no replacement");
    assert.equal(subscription.replacements, 0);
  } finally {
    await subscription.close();
  }
  assert.deepEqual(consumers[0]!.calls.at(-1), "disconnect");
});

Deno.test("subscription: a consumer stopped for good is replaced; failed starts are retried", async () => {
  // The first replacement cannot run yet (the broker is still away); the second can.
  const { consumers, link, subscription, at } = setup([false, true, false]);
  await subscription.start();
  try {
    at(500);
    consumers[0]!.emit(EVENTS.CRASH, { error: new Error("lock timeout"), restart: false });
    assert.equal(link.state(500).connected, false);
    await eventually("a replacement that runs", () => subscription.replacements === 1, 5000, 5);
    assert.equal(consumers.length, 3);
    assert.deepEqual(consumers[0]!.calls, ["connect", "subscribe", "run", "disconnect"]);
    assert.deepEqual(consumers[1]!.calls, ["connect", "subscribe", "run", "disconnect"]);
    assert.deepEqual(consumers[2]!.calls, ["connect", "subscribe", "run"]);
    // The old consumer's events no longer count; the new one's do.
    at(3000);
    consumers[0]!.emit(EVENTS.FETCH);
    assert.equal(link.state(3000).connected, false);
    consumers[2]!.emit(EVENTS.FETCH);
    assert.deepEqual(link.state(3000), { connected: true, since: 3000, heardAt: 3000 });
  } finally {
    await subscription.close();
  }
  assert.equal(consumers[2]!.calls.at(-1), "disconnect");
  assert.equal(link.state(3000).connected, false);
});

Deno.test("subscription: close() during a replacement stops it", async () => {
  const { consumers, subscription } = setup([false, true, true, true, true]);
  await subscription.start();
  consumers[0]!.emit(EVENTS.CRASH, { error: new Error("gone"), restart: false });
  await eventually("a failed replacement", () => consumers.length >= 2, 5000, 1);
  await subscription.close();
  const count = consumers.length;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(consumers.length, count, "no new consumer after close");
  assert.equal(subscription.replacements, 0);
});

Deno.test("subscription: a consumer stopped for good before it joined is replaced; start() waits for that one", async () => {
  const { consumers, link, subscription } = setup([], [false]);
  const started = subscription.start();
  await eventually("the first consumer to run", () => consumers[0]?.calls.includes("run"), 5000, 1);
  consumers[0]!.emit(EVENTS.CRASH, { error: new Error("coordinator not found"), restart: false });
  await started;
  try {
    assert.equal(consumers.length, 2);
    assert.equal(subscription.replacements, 1);
    assert.equal(link.state(0).connected, true);
  } finally {
    await subscription.close();
  }
});

Deno.test("subscription: with commitEveryMs, handled offsets go out together, retried, and at close", async () => {
  const { consumers, subscription } = setup([], [], 30);
  await subscription.start();
  const consumer = consumers[0]!;
  const handle = (partition: number, offset: string) =>
    consumer.runOptions!.eachMessage({ topic: "t", partition, message: { offset } });
  const sorted = (commit: { partition: number; offset: string }[]) =>
    commit.map(({ partition, offset }) => `${partition}:${offset}`).sort();
  try {
    assert.equal(consumer.runOptions?.autoCommit, false, "kafkajs commits nothing itself");
    await handle(0, "5");
    await handle(1, "7");
    await handle(0, "6");
    await eventually("a commit", () => consumer.commits.length === 1, 2000, 5);
    assert.deepEqual(sorted(consumer.commits[0]!), ["0:7", "1:8"], "the next offset of each");
    consumer.failCommits = 1;
    await handle(0, "9");
    await eventually(
      "a failed commit, then its retry",
      () => consumer.commits.length === 3,
      2000,
      5,
    );
    assert.deepEqual(consumer.commits.slice(1).map(sorted), [["0:10"], ["0:10"]]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(consumer.commits.length, 3, "nothing new, nothing committed");
    await handle(1, "20");
  } finally {
    await subscription.close();
  }
  assert.deepEqual(sorted(consumer.commits.at(-1)!), ["1:21"], "committed on close");
  assert.deepEqual(consumer.calls.slice(-2), ["commit", "disconnect"]);
});

Deno.test("subscription: without commitEveryMs kafkajs commits as it does by default", async () => {
  const { consumers, subscription } = setup([]);
  await subscription.start();
  try {
    assert.equal(consumers[0]!.runOptions?.autoCommit, undefined);
  } finally {
    await subscription.close();
  }
  assert.deepEqual(consumers[0]!.commits, []);
});

Deno.test("subscription: closing waits for a commit that never answers only a bounded time", async () => {
  const { consumers, subscription } = setup([], [], 60_000);
  await subscription.start();
  const consumer = consumers[0]!;
  await consumer.runOptions!.eachMessage({ topic: "t", partition: 0, message: { offset: "3" } });
  consumer.hangCommits = true;
  const started = performance.now();
  await subscription.close();
  const waited = performance.now() - started;
  assert.ok(waited >= 1_900 && waited < 10_000, `closed after ${waited} ms`);
  assert.deepEqual(consumer.calls.slice(-2), ["commit", "disconnect"]);
});
