/**
 * Exact division of work between workers: connections, request counts and timetable slots.
 * The parts always add back up to the whole (autocannon's `Math.floor(amount / workers)` drops
 * the remainder; k6's execution segments exist so that "we won't lose a VU along the way").
 */

/**
 * Splits `total` into `parts` whole numbers that differ by at most one and sum to `total`; the
 * remainder goes to the first parts. Throws RangeError on a negative or fractional total or a
 * part count below 1.
 */
export function split(total: number, parts: number): number[] {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new RangeError(`Cannot split ${total}: expected a whole number >= 0`);
  }
  if (!Number.isSafeInteger(parts) || parts < 1) {
    throw new RangeError(`Cannot split into ${parts} parts: expected a whole number >= 1`);
  }
  const base = Math.floor(total / parts);
  const remainder = total - base * parts;
  return Array.from({ length: parts }, (_, i) => base + (i < remainder ? 1 : 0));
}

/**
 * How many of the global slots 0..total-1 fall to part `index` of `parts` when slots are dealt
 * round-robin (slot k goes to part k mod parts). Equals `split(total, parts)[index]`, which is
 * what lets a paced test interleave one timetable across workers and still split counts exactly.
 */
export function roundRobinShare(total: number, parts: number, index: number): number {
  if (total <= index) return 0;
  return Math.floor((total - 1 - index) / parts) + 1;
}
