/**
 * Runs one test through the REST API: create, trigger, follow it with a progress line until it
 * is settled, and on interruption (Ctrl-C) stop the *test*, then wait for its final numbers.
 * Every effect comes in through {@link RunDeps}, so the flow is tested against a fake API.
 */
import type { Driver, TestParamsInput, TestView } from "../shared/api.ts";
import { ApiError } from "../shared/api_error.ts";
import type { ApiClient } from "./api_client.ts";
import { describePlan, planDrivers } from "./driver_plan.ts";
import { chosenDrivers, renderProgress } from "./progress.ts";
import { sleep } from "../shared/async.ts";

/** What {@link runTest} needs from the world. */
export interface RunDeps {
  api: ApiClient;
  /** Receives a progress line at every poll. */
  onProgress: (line: string) => void;
  /** Receives notes such as "stopping the test". */
  onNote?: (line: string) => void;
  /** Aborted when the user interrupts (Ctrl-C): the test is stopped, not just the client. */
  signal?: AbortSignal;
  /** Poll interval (default 500 ms, so the line moves at least once a second). */
  pollMs?: number;
  /** How long to wait for the drivers' final numbers after a stop (default 30 s). */
  settleTimeoutMs?: number;
  now?: () => number;
}

/** The end of a run. */
export interface RunOutcome {
  view: TestView;
  /** True when the user interrupted the run and the test was stopped on their behalf. */
  interrupted: boolean;
}

/**
 * Says which drivers the test is about to run on (or throws a NoDriversError before creating
 * anything), creates and triggers it, follows it until settled, and returns the final resource.
 */
export async function runTest(params: TestParamsInput, deps: RunDeps): Promise<RunOutcome> {
  const { api } = deps;
  const now = deps.now ?? Date.now;
  const pollMs = deps.pollMs ?? 500;
  const note = deps.onNote ?? (() => {});
  const plan = planDrivers(params.drivers, await api.drivers());
  note(describePlan(plan));
  const created = await api.createTest(params);
  const testId = created.test_id;
  note(`created test ${testId}`);
  if (deps.signal?.aborted) {
    return { view: await stopQuietly(api, testId), interrupted: true };
  }
  let view: TestView;
  try {
    view = await api.trigger(testId);
  } catch (err) {
    // A created test that never ran would linger as "created" in everyone's list.
    await stopQuietly(api, testId);
    throw err;
  }
  const started = now();
  const chosen = chosenDrivers(view);
  const planned = plan.drivers.map((d) => d.node_id);
  const changed = chosen.length !== planned.length || chosen.some((id) => !planned.includes(id));
  note(
    `triggered test ${testId} on ${chosen.length} driver${chosen.length === 1 ? "" : "s"}: ` +
      `${chosen.join(", ") || "none"}${changed ? " (the alive drivers changed meanwhile)" : ""}`,
  );
  let interrupted = false;
  let stopSentAt: number | undefined;
  let drivers: Driver[] = [];
  while (true) {
    if (deps.signal?.aborted && !interrupted) {
      interrupted = true;
      stopSentAt = now();
      note(`interrupted: stopping test ${testId} (waiting for the drivers' final numbers)`);
      view = await stopQuietly(api, testId);
    }
    [view, drivers] = await Promise.all([api.getTest(testId), api.drivers().catch(() => drivers)]);
    deps.onProgress(renderProgress(view, drivers, (now() - started) / 1000));
    if (view.settled) break;
    if (stopSentAt !== undefined && now() - stopSentAt > (deps.settleTimeoutMs ?? 30_000)) {
      note(`gave up waiting for test ${testId} to settle; its result may be incomplete`);
      break;
    }
    await sleep(pollMs, interrupted ? undefined : deps.signal);
  }
  return { view, interrupted };
}

/** Stops a test, tolerating that it already ended (409); returns its resource. */
export async function stopQuietly(api: ApiClient, testId: string): Promise<TestView> {
  try {
    return await api.stop(testId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) return await api.getTest(testId);
    throw err;
  }
}
