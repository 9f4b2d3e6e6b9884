import assert from "node:assert/strict";
import {
  isBusy,
  type Lifecycle,
  type LifecycleEvent,
  type LifecycleState,
  transition,
} from "../../orchestrator/lifecycle.ts";

/** One lifecycle per state, each with two chosen drivers where the state allows. */
const STATES: Record<LifecycleState, Lifecycle> = {
  created: { state: "created", drivers: {} },
  running: { state: "running", drivers: { a: "running", b: "running" } },
  finished: { state: "finished", drivers: { a: "final", b: "final" } },
  stopped: { state: "stopped", drivers: { a: "running", b: "final" } },
  failed: { state: "failed", drivers: { a: "lost", b: "lost" }, reason: "x" },
};

const EVENTS: Record<string, LifecycleEvent> = {
  trigger: { type: "trigger", drivers: ["a", "b"] },
  stop: { type: "stop" },
  final_a: { type: "driver_final", node_id: "a" },
  lost_a: { type: "driver_lost", node_id: "a" },
  alive_a: { type: "driver_alive", node_id: "a" },
};

/** Expected resulting state per (state, event); "error" means the transition is refused (409). */
const TABLE: Record<LifecycleState, Record<keyof typeof EVENTS, LifecycleState | "error">> = {
  created: {
    trigger: "running",
    stop: "stopped",
    final_a: "created",
    lost_a: "created",
    alive_a: "created",
  },
  running: {
    trigger: "error",
    stop: "stopped",
    final_a: "running",
    lost_a: "running",
    alive_a: "running",
  },
  finished: {
    trigger: "error",
    stop: "error",
    final_a: "finished",
    lost_a: "finished",
    alive_a: "finished",
  },
  stopped: {
    trigger: "error",
    stop: "error",
    final_a: "stopped",
    lost_a: "stopped",
    alive_a: "stopped",
  },
  failed: {
    trigger: "error",
    stop: "error",
    final_a: "failed",
    lost_a: "failed",
    alive_a: "failed",
  },
};

for (const [state, row] of Object.entries(TABLE) as [LifecycleState, Record<string, string>][]) {
  for (const [name, expected] of Object.entries(row)) {
    Deno.test(`lifecycle: ${name} in ${state} gives ${expected}`, () => {
      const result = transition("t1", STATES[state], EVENTS[name]!);
      if (expected === "error") {
        assert.equal(result.ok, false);
        if (!result.ok) {
          assert.equal(result.state, state);
          assert.match(result.error, new RegExp(`test "t1": it is ${state}$`));
        }
      } else {
        assert.equal(result.ok, true);
        if (result.ok) assert.equal(result.lifecycle.state, expected);
      }
    });
  }
}

Deno.test("lifecycle: error messages name the action and the current state", () => {
  const twice = transition("t1", STATES.running, EVENTS.trigger!);
  assert.deepEqual(twice, {
    ok: false,
    error: 'Cannot trigger test "t1": it is running',
    state: "running",
  });
  const stopFinished = transition("t1", STATES.finished, EVENTS.stop!);
  assert.equal(stopFinished.ok ? "" : stopFinished.error, 'Cannot stop test "t1": it is finished');
});

Deno.test("lifecycle: a trigger with no driver is refused", () => {
  const result = transition("t1", STATES.created, { type: "trigger", drivers: [] });
  assert.equal(result.ok, false);
});

function run(events: LifecycleEvent[], start: Lifecycle = STATES.created): Lifecycle {
  let lifecycle = start;
  for (const event of events) {
    const result = transition("t", lifecycle, event);
    if (!result.ok) throw new Error(result.error);
    lifecycle = result.lifecycle;
  }
  return lifecycle;
}

const final = (id: string): LifecycleEvent => ({ type: "driver_final", node_id: id });
const lost = (id: string): LifecycleEvent => ({ type: "driver_lost", node_id: id });
const alive = (id: string): LifecycleEvent => ({ type: "driver_alive", node_id: id });
const trigger = (...ids: string[]): LifecycleEvent => ({ type: "trigger", drivers: ids });

Deno.test("lifecycle: completion table over driver progress", () => {
  const cases: [string, LifecycleEvent[], LifecycleState, Record<string, string>][] = [
    ["all final", [trigger("a", "b"), final("a"), final("b")], "finished", {
      a: "final",
      b: "final",
    }],
    ["one final one lost", [trigger("a", "b"), final("a"), lost("b")], "finished", {
      a: "final",
      b: "lost",
    }],
    ["all lost", [trigger("a", "b"), lost("a"), lost("b")], "failed", { a: "lost", b: "lost" }],
    [
      "lost then back then final",
      [trigger("a", "b"), lost("a"), alive("a"), final("a")],
      "running",
      {
        a: "final",
        b: "running",
      },
    ],
    ["duplicate final", [trigger("a", "b"), final("a"), final("a")], "running", {
      a: "final",
      b: "running",
    }],
    ["unchosen driver is ignored", [trigger("a"), final("z"), lost("z")], "running", {
      a: "running",
    }],
    [
      "final after lost settles as final",
      [trigger("a", "b"), lost("a"), final("b"), final("a")],
      "finished",
      { a: "final", b: "final" },
    ],
    [
      "stop then finals drain",
      [trigger("a", "b"), { type: "stop" }, final("a"), final("b")],
      "stopped",
      { a: "final", b: "final" },
    ],
    ["duplicate trigger ids count once", [trigger("a", "a"), final("a")], "finished", {
      a: "final",
    }],
  ];
  for (const [name, events, state, drivers] of cases) {
    const lifecycle = run(events);
    assert.equal(lifecycle.state, state, name);
    assert.deepEqual(lifecycle.drivers, drivers, name);
  }
});

Deno.test("lifecycle: a lost driver that returns after the test ended stays lost", () => {
  const lifecycle = run([trigger("a", "b"), final("a"), lost("b"), alive("b")]);
  assert.equal(lifecycle.state, "finished");
  assert.equal(lifecycle.drivers.b, "lost");
  assert.equal(lifecycle.reason, "1 of 2 drivers lost");
});

Deno.test("lifecycle: a stopped test is busy until every driver settled", () => {
  const stopped = run([trigger("a", "b"), { type: "stop" }]);
  assert.equal(isBusy(stopped), true);
  assert.equal(isBusy(run([final("a")], stopped)), true);
  assert.equal(isBusy(run([final("a"), lost("b")], stopped)), false);
  assert.equal(isBusy(STATES.created), false);
  assert.equal(isBusy(STATES.running), true);
});
