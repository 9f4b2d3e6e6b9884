/**
 * Counts by key (`error_kinds`, `status_codes`): the one way to add them up, whether a driver sums
 * its workers' deltas or the orchestrator sums its drivers' cumulative reports.
 */

/**
 * Adds every count of `from` into `into`, key by key. A key missing from `from` (undefined) is
 * skipped; a zero is added, so the key appears in `into` as it appeared in `from`.
 */
export function addCounts(
  into: Record<string, number>,
  from: Readonly<Record<string, number | undefined>>,
): void {
  for (const [key, n] of Object.entries(from)) {
    if (n !== undefined) into[key] = (into[key] ?? 0) + n;
  }
}

/** The per-request counters that add up across workers and drivers. */
export const REQUEST_COUNTERS = [
  "requests",
  "responses",
  "errors",
  "late",
  "dropped",
  "queued",
] as const;

/** Adds the numeric fields `keys` of `from` into `into`. */
export function addFields<K extends string>(
  into: Record<K, number>,
  from: Readonly<Record<K, number>>,
  keys: readonly K[],
): void {
  for (const key of keys) into[key] += from[key];
}
