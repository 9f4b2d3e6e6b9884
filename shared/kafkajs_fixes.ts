/**
 * Two workarounds for kafkajs 2.2.4's request queue timer (one per broker connection), installed
 * once per process by {@link installKafkajsFixes} before any client connects.
 *
 * 1. The loop. After every response, `checkPendingRequests` schedules the next check with
 *    `setTimeout(…, throttledUntil − now)`; unthrottled, that delay is negative, the timer
 *    fires after 1 ms and schedules the next one, forever (kafkajs issues #1556 and #1704). Each
 *    connection of each client so woke its process about a thousand times a second for nothing:
 *    the orchestrator idled at about 10 % of a core, and its timer objects were half of what it
 *    allocated under load. A pending request is only ever waiting for one of two things: a
 *    response (whose arrival checks the queue) or the end of a throttle (which needs the timer),
 *    so {@link scheduleCheck} arms the timer only when requests wait and only for as long as
 *    the throttle lasts (10 ms, kafkajs's own interval, when it has just ended: kafkajs 2.2.4's
 *    fix for a request stranded by a throttle of a millisecond or so is kept).
 * 2. The warning. Node's compat layer prints a TimeoutNegativeWarning for every such timer; with
 *    the loop gone a negative delay is rare (kafkajs computes others from clock differences), and
 *    it still fires at once, which is what kafkajs wants there: that one warning type is dropped.
 */
import process from "node:process";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** kafkajs's pause between checks of a queue whose throttle has just ended. */
export const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** The fields of kafkajs's RequestQueue that scheduling a check reads and writes. */
interface QueueTimerState {
  pending: readonly unknown[];
  /** Epoch ms until which the broker asked the client to hold requests (-1: never throttled). */
  throttledUntil: number;
  /** The armed check, if any. */
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
}

/**
 * When the queue should be checked again, in ms from `now`: undefined when nothing waits (a
 * request that waits on a full in-flight window is sent when a response arrives).
 */
export function checkDelay(
  pending: number,
  throttledUntil: number,
  now: number,
): number | undefined {
  if (pending === 0) return undefined;
  const left = throttledUntil - now;
  return left > 0 ? left : CHECK_PENDING_REQUESTS_INTERVAL_MS;
}

/** RequestQueue's `scheduleCheckPendingRequests`, without the endless loop (see the module). */
function scheduleCheck(this: QueueTimerState): void {
  if (this.throttleCheckTimeoutId) return;
  const delay = checkDelay(this.pending.length, this.throttledUntil, Date.now());
  if (delay === undefined) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

let installed = false;

/** Installs both workarounds; later calls do nothing. */
export function installKafkajsFixes(): void {
  if (installed) return;
  installed = true;
  (RequestQueue as { prototype: { scheduleCheckPendingRequests: unknown } }).prototype
    .scheduleCheckPendingRequests = scheduleCheck;
  const original = process.emitWarning;
  process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
    const first = rest[0];
    const type = typeof first === "string" ? first : (first as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === "TimeoutNegativeWarning" || type === "TimeoutNegativeWarning") return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
}
