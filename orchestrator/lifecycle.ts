/**
 * The test lifecycle as a pure reducer: `(lifecycle, event) → lifecycle | error`.
 *
 * ```
 * created ──trigger──▶ running ──every chosen driver final or lost──▶ finished
 *    │                    │   └──every chosen driver lost, none final──▶ failed
 *    └──────stop──────────┴──stop──▶ stopped
 * ```
 *
 * Besides the state it tracks each chosen driver's progress (`running`, `final`, `lost`), so
 * "the test is complete" is decided here and nowhere else. A stopped test keeps tracking the
 * final metrics that arrive after STOP: it is *draining* until every chosen driver is settled.
 */
import type { DriverProgress, TestState } from "../shared/api.ts";

/** A state a test's lifecycle can be in (`corrupt` is only ever shown, never entered). */
export type LifecycleState = Exclude<TestState, "corrupt">;

/** The states a test never leaves. */
export const TERMINAL_STATES: readonly LifecycleState[] = ["finished", "stopped", "failed"];

/** The lifecycle of one test. Plain data, so it can be stored as JSON. */
export interface Lifecycle {
  state: LifecycleState;
  /** The drivers chosen at trigger time and their progress; empty before the trigger. */
  drivers: Record<string, DriverProgress>;
  /** Why the test failed, or what settled it; absent while it runs. */
  reason?: string;
  /** The run (instance id) of each chosen driver at trigger time, where it was known. */
  instances?: Record<string, string>;
  /** Why a chosen driver was counted as lost. */
  lost_reasons?: Record<string, string>;
}

/** Something that happens to a test. */
export type LifecycleEvent =
  | { type: "trigger"; drivers: readonly string[]; instances?: Record<string, string> }
  | { type: "stop" }
  | { type: "driver_final"; node_id: string }
  | { type: "driver_lost"; node_id: string; reason?: string }
  | { type: "driver_alive"; node_id: string };

/** The outcome of a transition: the new lifecycle, or an error naming the current state. */
export type TransitionResult =
  | { ok: true; lifecycle: Lifecycle }
  | { ok: false; error: string; state: LifecycleState };

/** A fresh, untriggered test. */
export function createdLifecycle(): Lifecycle {
  return { state: "created", drivers: {} };
}

/** True for finished, stopped and failed. */
export function isTerminal(state: TestState): boolean {
  return (TERMINAL_STATES as readonly TestState[]).includes(state);
}

/** True while some chosen driver has neither sent its final metrics nor been lost. */
export function hasUnsettledDrivers(lifecycle: Lifecycle): boolean {
  return Object.values(lifecycle.drivers).some((p) => p === "running");
}

/**
 * True when the test still occupies its drivers: it runs, or it was stopped and some driver
 * has not sent its final metrics yet.
 */
export function isBusy(lifecycle: Lifecycle): boolean {
  return lifecycle.state === "running" ||
    (lifecycle.state === "stopped" && hasUnsettledDrivers(lifecycle));
}

function refuse(testId: string, action: string, state: LifecycleState): TransitionResult {
  return { ok: false, error: `Cannot ${action} test "${testId}": it is ${state}`, state };
}

/** Settles a running test once no chosen driver is still running. */
function settle(lifecycle: Lifecycle): Lifecycle {
  if (lifecycle.state !== "running" || hasUnsettledDrivers(lifecycle)) return lifecycle;
  const progress = Object.values(lifecycle.drivers);
  const lost = progress.filter((p) => p === "lost").length;
  if (progress.length > 0 && lost === progress.length) {
    return {
      ...lifecycle,
      state: "failed",
      reason: "every chosen driver was lost before sending its final metrics",
    };
  }
  return {
    ...lifecycle,
    state: "finished",
    reason: lost > 0 ? `${lost} of ${progress.length} drivers lost` : undefined,
  };
}

function withDriver(lifecycle: Lifecycle, nodeId: string, progress: DriverProgress): Lifecycle {
  return { ...lifecycle, drivers: { ...lifecycle.drivers, [nodeId]: progress } };
}

/**
 * Applies `event` to the lifecycle of test `testId`. Never throws: a transition that is not
 * allowed (trigger twice, stop a finished test) is an error value whose message says the current
 * state. Driver events for drivers that were not chosen, or that arrive when they no longer
 * matter, leave the lifecycle unchanged rather than failing: Kafka may deliver them late.
 */
export function transition(
  testId: string,
  lifecycle: Lifecycle,
  event: LifecycleEvent,
): TransitionResult {
  const { state } = lifecycle;
  const ok = (next: Lifecycle): TransitionResult => ({ ok: true, lifecycle: next });
  switch (event.type) {
    case "trigger": {
      if (state !== "created") return refuse(testId, "trigger", state);
      const chosen = [...new Set(event.drivers)];
      if (chosen.length === 0) {
        return {
          ok: false,
          error: `Cannot trigger test "${testId}": no driver was chosen (it is ${state})`,
          state,
        };
      }
      const instances = Object.fromEntries(
        chosen.filter((id) => event.instances?.[id] !== undefined).map((id) => [
          id,
          event.instances![id]!,
        ]),
      );
      return ok({
        state: "running",
        drivers: Object.fromEntries(chosen.map((id) => [id, "running" as const])),
        ...(Object.keys(instances).length > 0 ? { instances } : {}),
      });
    }
    case "stop":
      if (state !== "created" && state !== "running") return refuse(testId, "stop", state);
      return ok({ ...lifecycle, state: "stopped", reason: "stopped on request" });
    case "driver_final": {
      // A final report settles a driver even after a stop or a loss: its numbers are complete.
      if (!(event.node_id in lifecycle.drivers)) return ok(lifecycle);
      if (lifecycle.drivers[event.node_id] === "final") return ok(lifecycle);
      return ok(settle(withDriver(lifecycle, event.node_id, "final")));
    }
    case "driver_lost": {
      if (lifecycle.drivers[event.node_id] !== "running") return ok(lifecycle);
      const lost = withDriver(lifecycle, event.node_id, "lost");
      const why = event.reason ?? "no heartbeat";
      return ok(settle({ ...lost, lost_reasons: { ...lost.lost_reasons, [event.node_id]: why } }));
    }
    case "driver_alive": {
      // A driver that comes back while the test still runs is counted on again; once the test
      // has ended, its loss is part of the result and stays.
      if (state !== "running" || lifecycle.drivers[event.node_id] !== "lost") {
        return ok(lifecycle);
      }
      return ok(withDriver(lifecycle, event.node_id, "running"));
    }
  }
}
