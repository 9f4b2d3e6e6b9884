/** What the reconnect backoff rule (driver/backoff.ts) allows, for tests to bound dials by. */
import { connectBackoffMs } from "../../driver/backoff.ts";

/**
 * How many tries the rule allows in the first `windowMs` of a refusal: one at 0 and one after
 * each pause (a refusal itself takes no time, so this is the most). It bounds both the requests
 * of one connection of the closed model and the dials of one worker's gate.
 */
export function dialsWithin(windowMs: number): number {
  let dials = 0;
  for (let at = 0; at < windowMs; at += connectBackoffMs(dials)) dials++;
  return dials;
}
