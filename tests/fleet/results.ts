/**
 * The fleet tests' test bodies and the exact checks of a result: every chosen driver final with
 * exactly its count, and the merged totals equal to the sum, which the caller compares with the
 * target's own count.
 */
import assert from "node:assert/strict";
import type { Json } from "../support/api_json.ts";

/** An unpaced test of `count` requests per driver on 2 connections. */
export function avalanche(targetUrl: string, count: number): Record<string, unknown> {
  return {
    test_type: "AVALANCHE",
    test_message_delay: 0,
    message_count_per_driver: count,
    target_url: targetUrl,
    connections: 2,
    timeout_ms: 5_000,
  };
}

/** A Tsunami of `count` requests per driver, one every `delayMs`, bounded by `durationS` too. */
export function tsunami(
  targetUrl: string,
  delayMs: number,
  count: number,
  options: { connections: number; timeoutMs: number; durationS: number },
): Record<string, unknown> {
  return {
    test_type: "TSUNAMI",
    test_message_delay: delayMs,
    message_count_per_driver: count,
    target_url: targetUrl,
    connections: options.connections,
    timeout_ms: options.timeoutMs,
    duration_s: options.durationS,
  };
}

/** Why the orchestrator counts a driver lost whose final report came over 3 s after it went idle. */
export const LATE_FINAL = "went idle without sending its final report";

/**
 * Asserts that driver `name`'s part is complete: its final report counted, `count` requests, all
 * answered; its status `final`, or `lost` for one of the reasons `lostFor` allows (a driver
 * counted lost whose final report came afterwards, within the grace).
 */
export function assertDriverComplete(
  view: Json,
  name: string,
  count: number,
  lostFor: readonly string[] = [],
): void {
  const d = view.drivers[name];
  assert.ok(d, `${name} has no part in test ${view.test_id}`);
  const what = `${name}: ${JSON.stringify({ ...d, latency_ms: 0, latency_ok_ms: 0, lag_ms: 0 })}`;
  assert.ok(d.status === "final" || (d.status === "lost" && lostFor.includes(d.lost_reason)), what);
  assert.equal(d.final, true, what);
  assert.equal(d.requests, count, what);
  assert.equal(d.responses, count, what);
  assert.equal(d.errors, 0, what);
  assert.equal(d.unfinished, 0, what);
}

/**
 * Asserts that test `view` finished on exactly `names`, each with `count` requests answered (see
 * {@link assertDriverComplete} for `lostFor`), and that its merged totals are their sum.
 */
export function assertComplete(
  view: Json,
  names: string[],
  count: number,
  lostFor: readonly string[] = [],
): void {
  assert.equal(view.state, "finished", `${view.test_id}: ${view.reason}`);
  assert.deepEqual(Object.keys(view.drivers).sort(), [...names].sort());
  for (const name of names) assertDriverComplete(view, name, count, lostFor);
  assert.equal(view.overall.requests, names.length * count);
  assert.equal(view.overall.responses, names.length * count);
  assert.equal(view.overall.errors, 0);
}

/** The value at percentile `p` of `xs` (nearest rank). */
export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** `d1`, `d2`, … `d<n>`. */
export function driverNames(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `d${from + i}`);
}
