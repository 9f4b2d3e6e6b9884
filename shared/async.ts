/**
 * Waiting: `sleep` for a while, and `pollUntil` something holds. Every wait in surge outside the
 * driver's timed engine goes through these two, so each can be cut short by an AbortSignal and
 * each timeout says what was awaited.
 */

/**
 * Resolves after `ms` milliseconds, or at once when `signal` is aborted. It resolves rather than
 * rejects on abort, so a loop that sleeps between rounds can check the signal itself and finish
 * its round (the CLI, for one, still collects a stopped test's final numbers).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Thrown by {@link pollUntil} when its time is up; `cause` is the last error `check` threw. */
export class PollTimeoutError extends Error {
  /** What was awaited, as the caller named it. */
  readonly what: string;
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number, cause?: unknown) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause });
    this.name = "PollTimeoutError";
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}

/** The values `if` takes for false; {@link pollUntil} never resolves with one. */
export type Falsy = false | 0 | "" | null | undefined;

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** What is awaited, for the timeout error: "timed out after 500 ms waiting for <what>". */
  what: string;
  timeoutMs: number;
  /** Pause between two checks (default 100 ms). */
  intervalMs?: number;
  /** Aborting it ends the wait at once, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a truthy value, and resolves with that value. A `check` that
 * throws counts as "not yet": polling is for things that fail until they are ready (a port not
 * yet open, a broker still starting); the last such error becomes the timeout's `cause`.
 * `check` runs at least once, and once more at the deadline, before a {@link PollTimeoutError}.
 * A condition that makes waiting pointless (a child that died) belongs in `check` as a truthy
 * result the caller then tells apart, or in `signal`.
 */
export async function pollUntil<T>(
  check: () => T | Promise<T>,
  options: PollOptions,
): Promise<Exclude<T, Falsy>> {
  const { what, timeoutMs, intervalMs = 100, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await check();
      if (value) return value as Exclude<T, Falsy>;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new PollTimeoutError(what, timeoutMs, lastError);
    await sleep(Math.min(intervalMs, left), signal);
  }
}
