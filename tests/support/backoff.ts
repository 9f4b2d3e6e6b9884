/** What the reconnect backoff rule (driver/backoff.ts) allows, for tests to bound dials by. */
import { connectBackoffMs } from "../../driver/backoff.ts";

/**
 * How many dials one always-refused connection may make in its first `windowMs`: one at 0 and
 * one after each pause of the rule (a refusal itself takes no time, so this is the most).
 */
export function dialsWithin(windowMs: number): number {
  let dials = 0;
  for (let at = 0; at < windowMs; at += connectBackoffMs(dials)) dials++;
  return dials;
}
