/**
 * One driver's reports as a test's aggregate holds them (aggregator.ts): its newest report, its
 * histograms as of that report, and the interval each report adds for the time series. A report
 * is taken only on top of what the driver sent before: newer, without a report_id jump, with
 * histograms that match its counters, and, when they continue from an earlier report
 * (`histograms_since`), on top of exactly that report. Pure.
 */
import type { Stats } from "../shared/api.ts";
import {
  decodeSparse,
  difference,
  differenceFromParts,
  EMPTY_SPARSE,
  isWithin,
  merge,
  type SparseHistogram,
} from "../shared/histogram.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import { countsBetween, type SeriesCounts } from "./timeseries.ts";

/**
 * The decoded histograms of one cumulative report. The expected responses' latencies are `all`
 * minus `failed`, taken only where figures are derived: once per merge, not once per report.
 */
export interface Histograms {
  all: SparseHistogram;
  failed: SparseHistogram;
  service: SparseHistogram;
  lag: SparseHistogram;
}

/** The encoded histograms of a metrics message, kept decoded instead (see {@link Report}). */
type Encoded =
  | "histogram"
  | "failed_histogram"
  | "ok_histogram"
  | "service_histogram"
  | "lag_histogram";

/**
 * A driver's newest report without its encoded histograms: their decoded forms are what is read,
 * so the 13 KB or so of text would be held until the next report for nothing.
 */
export type Report = Omit<MetricsMessage, Encoded>;

function reportOf(message: MetricsMessage): Report {
  const {
    histogram: _all,
    failed_histogram: _failed,
    ok_histogram: _ok,
    service_histogram: _service,
    lag_histogram: _lag,
    ...report
  } = message;
  return report;
}

/** What an aggregate knows of one driver. */
export interface DriverState {
  latest: Report;
  /**
   * Cumulative histograms as of an earlier report; with `added`, the histograms of the reports
   * taken since, they are the driver's histograms as of `latest` (see {@link histogramsOf}).
   */
  histograms: Histograms;
  added: Histograms[];
  /** Where the driver's test clock starts, in ms after the trigger (from its first report). */
  offsetMs: number;
  /** Its statistics, derived when first read after this report (they cost a pass each). */
  stats?: Stats;
}

/**
 * How many continuing reports a driver's state holds before they are added into its histograms
 * regardless of reads: surge's drivers send a cumulative report every 10th, so this bounds only
 * other producers.
 */
const MAX_ADDED = 16;

/** A driver's cumulative histograms as of its newest report, adding in what was kept apart. */
export function histogramsOf(state: DriverState): Histograms {
  if (state.added.length > 0) {
    state.histograms = mergeHistograms([state.histograms, ...state.added]);
    state.added = [];
  }
  return state.histograms;
}

/**
 * What a driver's report adds to its previous one: the counts, and the latencies of the requests
 * that ended in between (a continuing report's histogram is that already). Undefined when the
 * report is not a superset of the previous one (a driver that restarted its counters).
 */
function intervalOf(
  previous: DriverState | undefined,
  message: MetricsMessage,
  all: SparseHistogram,
): Interval | undefined {
  const counts = previous === undefined
    ? { requests: message.requests, responses: message.responses, errors: message.errors }
    : countsBetween(previous.latest, message);
  if (counts === undefined) return undefined;
  if (previous === undefined || message.histograms_since !== undefined) {
    return { counts, histogram: all };
  }
  const parts = [previous.histograms.all, ...previous.added.map((h) => h.all)];
  const histogram = differenceFromParts(all, parts);
  return histogram && { counts, histogram };
}

/** What taking a message did (TestAggregate.accept, {@link nextState}). */
export type Verdict =
  /** Taken: it is the driver's newest report. */
  | "accepted"
  /** Another test's, a duplicate, or older than one taken: nothing changes. */
  | "stale"
  /** Its histograms continue from a report that was not taken: ignored until a cumulative one. */
  | "unchained";

/**
 * The failed requests' latencies: sent as such, or (by drivers that sent the expected responses'
 * histogram instead) every request's minus the expected ones. RangeError when they cannot be
 * part of `all`.
 */
function failedOf(message: MetricsMessage, all: SparseHistogram): SparseHistogram {
  if (message.failed_histogram !== undefined) {
    const failed = decodeSparse(message.failed_histogram);
    if (!isWithin(failed, all)) {
      throw new RangeError("failed_histogram holds latencies that histogram lacks");
    }
    return failed;
  }
  if (message.ok_histogram === undefined) return EMPTY_SPARSE;
  const failed = difference(all, decodeSparse(message.ok_histogram));
  if (!failed) throw new RangeError("ok_histogram holds latencies that histogram lacks");
  return failed;
}

function decodeAll(message: MetricsMessage): Histograms {
  const all = decodeSparse(message.histogram);
  const optional = (h: string | undefined) => h === undefined ? EMPTY_SPARSE : decodeSparse(h);
  return {
    all,
    failed: failedOf(message, all),
    // Unpaced, service time is the latency (histograms are never changed, so it can be shared).
    service: message.service_histogram === undefined
      ? all
      : decodeSparse(message.service_histogram),
    lag: optional(message.lag_histogram),
  };
}

/** Each kind of histogram of `list` merged. */
export function mergeHistograms(list: readonly Histograms[]): Histograms {
  return {
    all: merge(list.map((h) => h.all)),
    failed: merge(list.map((h) => h.failed)),
    service: merge(list.map((h) => h.service)),
    lag: merge(list.map((h) => h.lag)),
  };
}

/**
 * A driver reports at most every 100 ms (the shortest `--report-ms`), so its report_id cannot
 * run ahead of its elapsed time by much; a jump beyond that would freeze out its real reports.
 */
function checkJump(previous: Report, message: MetricsMessage): void {
  const allowed = 10 + Math.max(0, message.elapsed_ms - previous.elapsed_ms) / 100;
  if (message.report_id - previous.report_id > allowed) {
    throw new RangeError(
      `report_id jumps from ${previous.report_id} to ${message.report_id} in ` +
        `${message.elapsed_ms - previous.elapsed_ms} ms`,
    );
  }
}

/**
 * The histograms must hold exactly the requests the counters say ended: all of them, or with
 * `since` (the report they continue from) the ones that ended after it.
 */
function checkHistogramCounts(m: MetricsMessage, h: Histograms, since?: Report): void {
  const ended = m.responses + m.errors - (since ? since.responses + since.errors : 0);
  const errors = m.errors - (since?.errors ?? 0);
  if (h.all.total !== ended) {
    throw new RangeError(`histogram holds ${h.all.total} latencies for ${ended} ended requests`);
  }
  if (h.failed.total < errors) {
    throw new RangeError(`failed histogram holds fewer than the ${errors} errors`);
  }
}

/** What a report adds to the driver's previous one (see {@link intervalOf}). */
export interface Interval {
  counts: SeriesCounts;
  histogram: SparseHistogram;
}

/**
 * The driver's state once `message` is taken on top of `previous`, and the interval it adds;
 * or why it is not taken (nothing changes then). `startOffset` places a first report (see
 * {@link DriverState.offsetMs}). Throws RangeError when a histogram cannot be decoded or
 * disagrees with the counters.
 */
export function nextState(
  previous: DriverState | undefined,
  message: MetricsMessage,
  startOffset: () => number,
): { state: DriverState; interval: Interval | undefined } | Exclude<Verdict, "accepted"> {
  if (previous && message.report_id <= previous.latest.report_id) return "stale";
  const since = message.histograms_since;
  if (since !== undefined && since !== previous?.latest.report_id) return "unchained";
  if (previous) checkJump(previous.latest, message);
  const histograms = decodeAll(message);
  checkHistogramCounts(message, histograms, since === undefined ? undefined : previous!.latest);
  const interval = intervalOf(previous, message, histograms.all);
  const offsetMs = previous?.offsetMs ?? startOffset();
  const state: DriverState = since === undefined
    ? { latest: reportOf(message), histograms, added: [], offsetMs }
    : {
      latest: reportOf(message),
      histograms: previous!.histograms,
      added: [...previous!.added, histograms],
      offsetMs,
    };
  if (state.added.length >= MAX_ADDED) histogramsOf(state);
  return { state, interval };
}
