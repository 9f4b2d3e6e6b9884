/**
 * Exact aggregation of one test's metrics. Pure: it only ever sees decoded `metrics` messages.
 *
 * Each driver's messages are cumulative, so only the newest per driver (by `report_id`) counts:
 * a duplicate or an older message that arrives late changes nothing. A message whose histograms
 * continue from an earlier report (`histograms_since`) counts only on top of exactly that report;
 * its histograms are kept beside the driver's and added in when a figure is derived, so taking a
 * report costs what its own histograms do, not what the test's whole history does. Overall
 * statistics merge the drivers' HDR histograms and sum their counters; percentiles are never
 * averaged. Accumulating (`accept`, each report taken as driver_reports.ts says) is kept apart
 * from deriving (`overall`, `driverStats`, `series`).
 */
import type { LatencyMs, Stats } from "../shared/api.ts";
import { addCounts, addFields, REQUEST_COUNTERS } from "../shared/counts.ts";
import { type SparseHistogram, summarize, withoutFailed } from "../shared/histogram.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import { saturationWarnings } from "../shared/saturation.ts";
import {
  type DriverState,
  type Histograms,
  histogramsOf,
  mergeHistograms,
  nextState,
  type Report,
  type Verdict,
} from "./driver_reports.ts";
import { type Series, SeriesBuilder } from "./timeseries.ts";

/** {@link Stats} of one driver plus where its reports are. */
export interface DriverStats extends Stats {
  report_id: number;
  final: boolean;
  /** The driver's timestamp (epoch ms) of its newest report. */
  reported_at: number;
  error: string | null;
}

/** What the aggregate needs to know about the test itself. */
export interface AggregateContext {
  /** Requests per second each driver's timetable asks for; null for an unpaced test. */
  rate: number | null;
  /** Keep-alive connections per driver. */
  connections: number;
  /** When the test was triggered (epoch ms); the series counts seconds from here. */
  triggeredAt: number | null;
}

/**
 * A driver's test clock is placed on the trigger's by this host's clock alone (when its first
 * report arrived, minus the elapsed time it covers), never by the driver's wall clock, which may
 * be skewed. Clamped to this window: drivers start within a second or two of the trigger, and a
 * first report that waited in Kafka (an outage) must not push the driver's points off the chart.
 */
const MAX_START_OFFSET_MS = 10_000;

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function latencyMs(histogram: SparseHistogram): LatencyMs {
  const { count: _count, ...rest } = summarize(histogram);
  return rest;
}

/**
 * Freezes derived statistics that are kept and handed out again: every read shares them, so
 * none may change them (a read that tried would throw).
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Zero statistics, for a test or driver nobody has reported on yet. */
export function emptyStats(): Stats {
  return statsOf([], mergeHistograms([]), { rate: null, connections: 0, triggeredAt: null });
}

/** Sums `messages` (one per driver) into {@link Stats}; `rps.last` counts them all. */
function statsOf(
  messages: readonly Report[],
  histograms: Histograms,
  context: AggregateContext,
): Stats {
  const lag = summarize(histograms.lag);
  const stats: Stats = {
    offered: 0,
    requests: 0,
    responses: 0,
    errors: 0,
    dropped: 0,
    queued: 0,
    unfinished: 0,
    error_kinds: {},
    status_codes: {},
    late: 0,
    rps: { last: 0, mean: 0 },
    elapsed_s: 0,
    latency_ms: latencyMs(histograms.all),
    latency_ok_ms: latencyMs(withoutFailed(histograms.all, histograms.failed)),
    lag_ms: { p50: lag.median, p99: lag.p99, max: lag.max },
    warnings: [],
  };
  let elapsedMs = 0;
  for (const m of messages) {
    addFields(stats, m, [...REQUEST_COUNTERS, "unfinished"]);
    stats.rps.last += m.interval_rps;
    addCounts(stats.error_kinds, m.error_kinds);
    addCounts(stats.status_codes, m.status_codes);
    elapsedMs = Math.max(elapsedMs, m.elapsed_ms);
  }
  stats.offered = stats.requests + stats.dropped;
  stats.elapsed_s = round3(elapsedMs / 1000);
  stats.rps.last = round3(stats.rps.last);
  stats.rps.mean = elapsedMs > 0 ? round3(stats.responses / (elapsedMs / 1000)) : 0;
  const drivers = messages.length;
  const service = summarize(histograms.service);
  stats.warnings = saturationWarnings({
    rate: context.rate === null || drivers === 0 ? null : context.rate * drivers,
    connections: context.connections * drivers,
    queued: stats.queued,
    dropped: stats.dropped,
    requests: stats.requests,
    lagP99Ms: lag.p99,
    serviceMeanMs: service.mean,
    serviceP99Ms: service.p99,
  });
  return stats;
}

/** Everything the drivers of one test have reported, reduced to exact statistics. */
export class TestAggregate {
  readonly testId: string;
  #contextOf: () => AggregateContext;
  #drivers = new Map<string, DriverState>();
  #series = new SeriesBuilder();
  #overall: Stats | undefined;

  /** `context` is read when needed: the test's trigger time is set after it is created. */
  constructor(testId: string, context: () => AggregateContext) {
    this.testId = testId;
    this.#contextOf = context;
  }

  /**
   * Takes one metrics message (see {@link Verdict}); nothing changes unless it is accepted.
   * Throws RangeError when a histogram cannot be decoded or disagrees with the counters.
   */
  accept(message: MetricsMessage, receivedAt: number): Verdict {
    if (message.test_id !== this.testId) return "stale";
    const previous = this.#drivers.get(message.node_id);
    const next = nextState(previous, message, () => this.#startOffset(message, receivedAt));
    if (typeof next === "string") return next;
    const { state, interval } = next;
    if (interval) {
      this.#series.add(
        message.node_id,
        state.offsetMs + (previous?.latest.elapsed_ms ?? 0),
        state.offsetMs + message.elapsed_ms,
        interval.counts,
        interval.histogram,
      );
    }
    this.#drivers.set(message.node_id, state);
    this.#overall = undefined;
    return "accepted";
  }

  #startOffset(message: MetricsMessage, receivedAt: number): number {
    const { triggeredAt } = this.#contextOf();
    if (triggeredAt === null) return 0;
    const offset = receivedAt - message.elapsed_ms - triggeredAt;
    return Math.min(MAX_START_OFFSET_MS, Math.max(0, offset));
  }

  /** The drivers that have reported, sorted. */
  nodes(): string[] {
    return [...this.#drivers.keys()].sort();
  }

  /** The newest message of a driver. */
  latest(nodeId: string): Report | undefined {
    return this.#drivers.get(nodeId)?.latest;
  }

  /**
   * One driver's statistics, from its newest cumulative report (frozen: derived once per report
   * and shared). `running`: the driver is still sending, so its last interval's rate is its
   * current rate; otherwise `rps.last` is 0.
   */
  driverStats(nodeId: string, running: boolean): DriverStats | undefined {
    const state = this.#drivers.get(nodeId);
    if (!state) return undefined;
    const stats = state.stats ??= deepFreeze(
      statsOf([state.latest], histogramsOf(state), this.#contextOf()),
    );
    const stopped = !running || state.latest.final;
    return {
      ...stats,
      rps: stopped ? { ...stats.rps, last: 0 } : stats.rps,
      report_id: state.latest.report_id,
      final: state.latest.final,
      reported_at: state.latest.timestamp,
      error: state.latest.error ?? null,
    };
  }

  /**
   * Overall statistics: summed counters and histograms merged from every driver's (frozen:
   * derived once per report and shared). `rps.last` sums only the drivers for which `running`
   * holds and whose newest report is not final.
   */
  overall(running: (nodeId: string) => boolean): Stats {
    const states = [...this.#drivers.values()];
    // One merge of every driver's parts: adding each driver's up first would walk its own twice.
    this.#overall ??= deepFreeze(statsOf(
      states.map((s) => s.latest),
      mergeHistograms(states.flatMap((s) => [s.histograms, ...s.added])),
      this.#contextOf(),
    ));
    let last = 0;
    for (const [nodeId, s] of this.#drivers) {
      if (running(nodeId) && !s.latest.final) last += s.latest.interval_rps;
    }
    return { ...this.#overall, rps: { ...this.#overall.rps, last: round3(last) } };
  }

  /** The per-second series, overall and per driver. */
  series(): Series {
    return this.#series.build();
  }
}
