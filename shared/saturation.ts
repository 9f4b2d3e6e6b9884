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
  /** Requests sent. */
  requests: number;
  /** Send lag p99 in ms (0 when unknown). */
  lagP99Ms: number;
  /** Mean and p99 service time of the responses in ms (0 when there were none). */
  serviceMeanMs: number;
  serviceP99Ms: number;
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });

/**
 * The warnings for one result; empty when the generator kept its schedule. Slots that waited for
 * a connection matter once they are more than 1 % of the load (a single hiccup is not a pattern);
 * a dropped slot always does, since that load never reached the target.
 */
export function saturationWarnings(s: SaturationInput): string[] {
  if (s.rate === null || s.rate <= 0) return [];
  const offered = s.requests + s.dropped;
  if (s.dropped > 0 || s.queued > offered * 0.01) {
    const what = `${s.queued} requests waited for a free connection and ${s.dropped} were dropped`;
    // Little's law: connections busy on average = rate × mean service time.
    const need = Math.ceil(s.rate * s.serviceMeanMs / 1000 * CONNECTION_HEADROOM);
    if (need > s.connections) {
      return [
        `${s.connections} connections cannot carry ${fmt(s.rate)} req/s at ` +
        `${fmt(s.serviceMeanMs)} ms per response: ${what}; use ≥ ${need} connections or more ` +
        `drivers`,
      ];
    }
    return [
      `all ${s.connections} connections were busy at times (service time p99 ` +
      `${fmt(s.serviceP99Ms)} ms): ${what}; use ≥ ${s.connections * 2} connections or more drivers`,
    ];
  }
  if (s.lagP99Ms > LAG_P99_WARN_MS) {
    return [
      `the generator fell behind its timetable with connections free (send lag p99 ` +
      `${fmt(s.lagP99Ms)} ms > ${LAG_P99_WARN_MS} ms): its CPU is saturated; use more ` +
      `workers or more drivers`,
    ];
  }
  return [];
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
