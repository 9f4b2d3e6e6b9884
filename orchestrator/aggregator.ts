/**
 * Exact aggregation of one test's metrics. Pure: it only ever sees decoded `metrics` messages.
 *
 * Each driver's messages are cumulative, so only the newest per driver (by `report_id`) counts:
 * a duplicate or an older message that arrives late changes nothing. Overall statistics merge
 * the drivers' HDR histograms and sum their counters; percentiles are never averaged.
 * Accumulating (`accept`) is kept apart from deriving (`overall`, `driverStats`, `series`).
 */
import { addCounts } from "../shared/counts.ts";
import {
  decodeHistogram,
  type Histogram,
  type LatencyStats,
  mergeAll,
  summarize,
} from "../shared/histogram.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import { intervalBetween, secondOf, SeriesBuilder, type TimeSeries } from "./timeseries.ts";

/** Latency statistics in milliseconds. */
export type LatencyMs = Omit<LatencyStats, "count">;

/** Counters and latency of one driver or of the whole test. */
export interface Stats {
  requests: number;
  responses: number;
  errors: number;
  error_kinds: Record<string, number>;
  status_codes: Record<string, number>;
  late: number;
  rps: {
    /** Responses per second over the last report interval (summed over drivers). */
    last: number;
    /** Responses over the time the test ran. */
    mean: number;
  };
  /** How long the test ran, in seconds (overall: the longest-running driver). */
  elapsed_s: number;
  latency_ms: LatencyMs;
}

/** {@link Stats} of one driver plus where its reports are. */
export interface DriverStats extends Stats {
  report_id: number;
  final: boolean;
  /** The driver's timestamp (epoch ms) of its newest report. */
  reported_at: number;
}

interface DriverState {
  latest: MetricsMessage;
  histogram: Histogram;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function latencyMs(histogram: Histogram): LatencyMs {
  const { count: _count, ...rest } = summarize(histogram);
  return rest;
}

/** Zero statistics, for a test nobody has reported on yet. */
export function emptyStats(): Stats {
  return statsOf([], mergeAll([]));
}

function statsOf(messages: readonly MetricsMessage[], histogram: Histogram): Stats {
  const stats: Stats = {
    requests: 0,
    responses: 0,
    errors: 0,
    error_kinds: {},
    status_codes: {},
    late: 0,
    rps: { last: 0, mean: 0 },
    elapsed_s: 0,
    latency_ms: latencyMs(histogram),
  };
  let elapsedMs = 0;
  for (const m of messages) {
    stats.requests += m.requests;
    stats.responses += m.responses;
    stats.errors += m.errors;
    stats.late += m.late;
    stats.rps.last += m.interval_rps;
    addCounts(stats.error_kinds, m.error_kinds);
    addCounts(stats.status_codes, m.status_codes);
    elapsedMs = Math.max(elapsedMs, m.elapsed_ms);
  }
  stats.elapsed_s = round3(elapsedMs / 1000);
  stats.rps.last = round3(stats.rps.last);
  stats.rps.mean = elapsedMs > 0 ? round3(stats.responses / (elapsedMs / 1000)) : 0;
  return stats;
}

/** Everything the drivers of one test have reported, reduced to exact statistics. */
export class TestAggregate {
  readonly testId: string;
  #drivers = new Map<string, DriverState>();
  #series = new SeriesBuilder();
  #overall: Stats | undefined;

  constructor(testId: string) {
    this.testId = testId;
  }

  /**
   * Takes one metrics message. Returns true when it was newer than what this driver had sent
   * before; false for another test's message, a duplicate or a stale one (nothing changes).
   * Throws RangeError when the histogram cannot be decoded (nothing changes either).
   */
  accept(message: MetricsMessage): boolean {
    if (message.test_id !== this.testId) return false;
    const previous = this.#drivers.get(message.node_id);
    if (previous && message.report_id <= previous.latest.report_id) return false;
    const histogram = decodeHistogram(message.histogram);
    const interval = intervalBetween(
      previous && { counts: previous.latest, histogram: previous.histogram },
      { counts: message, histogram },
    );
    if (interval) {
      this.#series.add(
        message.node_id,
        secondOf(message.elapsed_ms),
        interval.counts,
        interval.histogram,
      );
    }
    this.#drivers.set(message.node_id, { latest: message, histogram });
    this.#overall = undefined;
    return true;
  }

  /** The drivers that have reported, sorted. */
  nodes(): string[] {
    return [...this.#drivers.keys()].sort();
  }

  /** The newest message of a driver. */
  latest(nodeId: string): MetricsMessage | undefined {
    return this.#drivers.get(nodeId)?.latest;
  }

  /** The newest messages of every driver, sorted by node id (what a store keeps). */
  latestMessages(): MetricsMessage[] {
    return this.nodes().map((id) => this.#drivers.get(id)!.latest);
  }

  /** One driver's statistics, from its newest cumulative report. */
  driverStats(nodeId: string): DriverStats | undefined {
    const state = this.#drivers.get(nodeId);
    if (!state) return undefined;
    return {
      ...statsOf([state.latest], state.histogram),
      report_id: state.latest.report_id,
      final: state.latest.final,
      reported_at: state.latest.timestamp,
    };
  }

  /** Overall statistics: summed counters and one histogram merged from every driver's. */
  overall(): Stats {
    if (!this.#overall) {
      const states = [...this.#drivers.values()];
      this.#overall = statsOf(
        states.map((s) => s.latest),
        mergeAll(states.map((s) => s.histogram)),
      );
    }
    return this.#overall;
  }

  /** The per-second series, overall and per driver. */
  series(): TimeSeries {
    return this.#series.build();
  }
}
