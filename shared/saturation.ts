/**
 * Saying out loud that the load generator, not the target, set the numbers. A paced test whose
 * requests waited for a free connection, or whose sends fell well behind their slots, measured
 * the generator's limits; the result then carries a warning naming the cause and the fix, as k6
 * warns about insufficient VUs. One pure function, used by the orchestrator (per driver and
 * overall), `driver --local` and the CLI, so every surface says the same thing.
 */

/** Send lag p99 above this means the generator's CPU could not keep the timetable. */
export const LAG_P99_WARN_MS = 10;
/** Headroom when suggesting a connection count: Little's law plus 20 % for variance. */
const CONNECTION_HEADROOM = 1.2;

/** What the warnings are derived from, for one driver (or the sum over drivers). */
export interface SaturationInput {
  /** Requests per second the timetable asks for; null for an unpaced test (no warnings). */
  rate: number | null;
  connections: number;
  /** Slots that came due while every connection was busy. */
  queued: number;
  /** Paced slots of the window that were never sent. */
  dropped: number;
  /** Send lag p99 in ms (0 when unknown). */
  lagP99Ms: number;
  /** Mean service time of the responses in ms (0 when there were none). */
  serviceMeanMs: number;
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });

/** The warnings for one result; empty when the generator kept its schedule. */
export function saturationWarnings(s: SaturationInput): string[] {
  if (s.rate === null || s.rate <= 0) return [];
  const warnings: string[] = [];
  if (s.queued > 0 || s.dropped > 0) {
    const need = Math.max(
      s.connections + 1,
      Math.ceil(s.rate * s.serviceMeanMs / 1000 * CONNECTION_HEADROOM),
    );
    warnings.push(
      `${s.connections} connections cannot carry ${fmt(s.rate)} req/s at ` +
        `${fmt(s.serviceMeanMs)} ms per response: ${s.queued} requests waited for a free ` +
        `connection and ${s.dropped} were dropped; use ≥ ${need} connections or more drivers`,
    );
  } else if (s.lagP99Ms > LAG_P99_WARN_MS) {
    warnings.push(
      `the generator fell behind its timetable with connections free (send lag p99 ` +
        `${fmt(s.lagP99Ms)} ms > ${LAG_P99_WARN_MS} ms): its CPU is saturated; use more ` +
        `workers or more drivers`,
    );
  }
  return warnings;
}

/** Requests per second a test's timetable asks of each driver; null when unpaced. */
export function scheduledRate(config: {
  test_type: "AVALANCHE" | "TSUNAMI";
  test_message_delay: number;
  target_throughput?: number | null;
}): number | null {
  if (config.test_type === "TSUNAMI") return 1000 / config.test_message_delay;
  return config.target_throughput ?? null;
}
