/**
 * A message whose handler fails for a passing reason ({@link isTransient}: the orchestrator's
 * disk is full, its database locked) is handled again after a pause, and again, until it
 * succeeds; meanwhile the message is not acknowledged, so not even a crash loses it. The pause
 * doubles from 250 ms up to 5 s, so a long outage costs one attempt every 5 s rather than a
 * spinning CPU, and recovery is noticed within 5 s. The consumer heartbeats during the pauses,
 * so it keeps its partitions instead of being taken for dead and rebalanced.
 */
import { sleep } from "./async.ts";
import { isTransient } from "./bus.ts";

/** The first pause after a transient failure. */
export const FIRST_RETRY_MS = 250;
/** The longest pause between two attempts. */
export const MAX_RETRY_MS = 5000;
/** Heartbeats are sent at least this often during a pause (kafkajs's heartbeat interval). */
const HEARTBEAT_STEP_MS = 1000;

/** The pause after the `attempt`-th failed attempt (1-based). */
export function retryPauseMs(attempt: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.min(attempt - 1, 30), MAX_RETRY_MS);
}

/** What {@link handleUntilDone} needs besides the handler. */
export interface RedeliveryOptions {
  /** Keeps the consumer in its group during a pause (kafkajs's `heartbeat` of `eachMessage`). */
  heartbeat: () => Promise<void>;
  /** Aborted when the subscription closes: the last error is thrown, the message unacknowledged. */
  signal: AbortSignal;
  /** Told of each failed attempt before its pause. */
  onRetry: (err: unknown, attempt: number, pauseMs: number) => void;
}

/**
 * Calls `handle` until it does not throw a transient error; resolves with the number of calls.
 * Any other error is thrown at once (the caller skips the message). The transient error itself
 * is thrown, the message left unacknowledged, when `signal` is aborted or a heartbeat fails (the
 * group is rebalancing: whoever owns the partition next reads the message again).
 */
export async function handleUntilDone(
  handle: () => void | Promise<void>,
  options: RedeliveryOptions,
): Promise<number> {
  for (let attempt = 1;; attempt++) {
    try {
      await handle();
      return attempt;
    } catch (err) {
      if (!isTransient(err) || options.signal.aborted) throw err;
      const pauseMs = retryPauseMs(attempt);
      options.onRetry(err, attempt, pauseMs);
      for (let left = pauseMs; left > 0 && !options.signal.aborted; left -= HEARTBEAT_STEP_MS) {
        await sleep(Math.min(left, HEARTBEAT_STEP_MS), options.signal);
        if (!options.signal.aborted) await options.heartbeat().catch(() => Promise.reject(err));
      }
      if (options.signal.aborted) throw err;
    }
  }
}
