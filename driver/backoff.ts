/**
 * The pause after failed connects. A target that refuses connections answers a dial in
 * microseconds, so retrying at a fixed short pause is a spin: 2,000 connections at 10 ms made
 * 200,000 dials a second and took both cores of the driver's machine. Doubling the pause per
 * consecutive failure, up to a second, still finds a target that comes back within a second.
 * A worker's dial gate (driver/dial_gate.ts) waits it between its probes, so a dead target costs
 * about one dial per worker per second; a closed-model connection rests it between its requests.
 */

/** The pause after the first failed connect. */
export const BACKOFF_FIRST_MS = 10;
/** The longest pause: a target that comes back is dialled again within this long. */
export const BACKOFF_MAX_MS = 1_000;

/**
 * The pause after the `failures`-th consecutive failed connect of one connection: 10, 20, 40,
 * … 640 ms, then 1 s from the 8th failure on; 0 when nothing failed (a successful connect resets
 * the count).
 */
export function connectBackoffMs(failures: number): number {
  if (!(failures >= 1)) return 0;
  // 2 ** 30 is far past the cap already; the clamp keeps a huge count from overflowing to Infinity.
  const doubled = BACKOFF_FIRST_MS * 2 ** Math.min(Math.floor(failures) - 1, 30);
  return Math.min(BACKOFF_MAX_MS, doubled);
}
