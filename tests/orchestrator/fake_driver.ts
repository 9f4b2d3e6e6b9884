/**
 * Builds the cumulative `metrics` messages a real driver would send, from known latency samples,
 * so aggregation tests can compare against the histogram of all the samples.
 */
import {
  createLatencyHistogram,
  encodeHistogram,
  type Histogram,
  recordMicros,
  summarize,
} from "../../shared/histogram.ts";
import type { MetricsMessage } from "../../shared/messages.ts";

/** A driver that accumulates samples and emits cumulative reports, or continuing ones. */
export class FakeDriver {
  readonly nodeId: string;
  readonly testId: string;
  /** Every request that ended: responses and errors. */
  readonly histogram: Histogram = createLatencyHistogram();
  /** The failed requests: the errors (every response is a 200 here). */
  readonly failedHistogram: Histogram = createLatencyHistogram();
  /** The expected responses: all of them, as drivers before `failed_histogram` sent it. */
  readonly okHistogram: Histogram = createLatencyHistogram();
  requests = 0;
  responses = 0;
  errors = 0;
  /** What ended since the previous report, for reports that continue from it. */
  #added = { all: createLatencyHistogram(), failed: createLatencyHistogram() };
  #reportId = 0;
  #statusCodes: Record<string, number> = {};

  /** When its test started, by its clock (epoch ms); reports are stamped from here. */
  readonly startedAt: number;

  constructor(nodeId: string, testId: string, startedAt = 1_700_000_000_000) {
    this.nodeId = nodeId;
    this.testId = testId;
    this.startedAt = startedAt;
  }

  /**
   * Records 200 responses with these latencies (µs), and `errors` timeouts, each ending after
   * `errorUs` (they count in the latency too).
   */
  record(latenciesUs: readonly number[], errors = 0, errorUs = 2_000_000): this {
    for (const us of latenciesUs) {
      recordMicros(this.histogram, us);
      recordMicros(this.#added.all, us);
      recordMicros(this.okHistogram, us);
      this.#statusCodes["200"] = (this.#statusCodes["200"] ?? 0) + 1;
    }
    for (let i = 0; i < errors; i++) {
      recordMicros(this.histogram, errorUs);
      recordMicros(this.#added.all, errorUs);
      recordMicros(this.failedHistogram, errorUs);
      recordMicros(this.#added.failed, errorUs);
    }
    this.requests += latenciesUs.length + errors;
    this.responses += latenciesUs.length;
    this.errors += errors;
    return this;
  }

  /**
   * The cumulative report as of now; `legacy`: with the expected responses' histogram instead of
   * the failed requests', as drivers sent it before `failed_histogram`.
   */
  report(elapsedMs: number, final = false, legacy = false): MetricsMessage {
    const message = this.#message(elapsedMs, final, legacy);
    this.#added.all.reset();
    this.#added.failed.reset();
    return message;
  }

  /** The report as of now with only what ended since the previous one in its histograms. */
  continuing(elapsedMs: number): MetricsMessage {
    const message = {
      ...this.#message(elapsedMs, false, false),
      histograms_since: this.#reportId - 2,
      histogram: encodeHistogram(this.#added.all),
      failed_histogram: encodeHistogram(this.#added.failed),
    };
    this.#added.all.reset();
    this.#added.failed.reset();
    return message;
  }

  #message(elapsedMs: number, final: boolean, legacy: boolean): MetricsMessage {
    const s = summarize(this.histogram);
    return {
      node_id: this.nodeId,
      test_id: this.testId,
      report_id: this.#reportId++,
      metrics: {
        mean_latency: s.mean,
        median_latency: s.median,
        min_latency: s.min,
        max_latency: s.max,
      },
      timestamp: this.startedAt + elapsedMs,
      final,
      elapsed_ms: elapsedMs,
      requests: this.requests,
      responses: this.responses,
      errors: this.errors,
      error_kinds: this.errors > 0 ? { timeout: this.errors } : {},
      status_codes: { ...this.#statusCodes },
      late: 0,
      dropped: 0,
      queued: 0,
      unfinished: 0,
      interval_rps: 0,
      histogram: encodeHistogram(this.histogram),
      ...(legacy
        ? { ok_histogram: encodeHistogram(this.okHistogram) }
        : { failed_histogram: encodeHistogram(this.failedHistogram) }),
    };
  }
}

/** Deterministic pseudo-random latencies (µs), so a failure is reproducible. */
export function latencies(seed: number, n: number, minUs: number, spreadUs: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push(minUs + (x % spreadUs));
  }
  return out;
}
