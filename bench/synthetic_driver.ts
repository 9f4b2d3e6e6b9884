/**
 * A synthetic driver for the aggregation-cost bench: it produces the `metrics` messages a real
 * driver would send for a paced test, without sending a request. Each second's requests go
 * through the driver's own code — a worker's {@link Recorder}, its delta snapshot added into the
 * driver's {@link Totals}, and its {@link MetricsChain} with every publish delivered — so counters,
 * status codes, error kinds and the four HDR histograms (cumulative, or continuing from the
 * previous report) have a real driver's shape, size and sequence. Latencies come from a
 * seeded generator (lognormal around a few ms with a slow tail, timeouts and refused connects),
 * so a run is repeatable. Pure: no clock, no I/O.
 */
import type { MetricsMessage } from "../shared/messages.ts";
import { type ChainedReport, MetricsChain } from "../driver/metrics_chain.ts";
import { Recorder } from "../driver/recorder.ts";
import {
  addSnapshot,
  createHistogramSet,
  createTotals,
  resetHistograms,
  type Totals,
} from "../driver/totals.ts";

/** What one synthetic driver sends. */
export interface SyntheticDriverOptions {
  nodeId: string;
  instanceId: string;
  testId: string;
  /** Requests per second (a paced test: each request has a slot and a send lag). */
  rate: number;
  /** Seeds the latency generator; drivers with different seeds differ. */
  seed: number;
}

/** A small, fast, seeded PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A standard normal variate from two uniforms (Box–Muller). */
function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A driver's cumulative state, one report per simulated second. */
export class SyntheticDriver {
  readonly options: SyntheticDriverOptions;
  #random: () => number;
  #totals: Totals = createTotals();
  #interval = createHistogramSet();
  #recorder = new Recorder(true);
  #chain: MetricsChain;
  #reportId = 0;
  #lastResponses = 0;
  /** Each driver is a little slower or faster than the others, as real hosts are. */
  #medianUs: number;

  constructor(options: SyntheticDriverOptions) {
    this.options = options;
    this.#random = seededRandom(options.seed);
    this.#chain = new MetricsChain(
      { nodeId: options.nodeId, instanceId: options.instanceId },
      options.testId,
    );
    this.#medianUs = 2_000 + 1_500 * this.#random();
  }

  /**
   * Simulates `seconds` (whole) more seconds of the test without building their messages: the
   * next message is the one a driver sends after that long, cumulative (as after reports that a
   * slow publisher replaced), and the ones after it continue from it. A long test's cumulative
   * reports are larger (more buckets filled, larger counts); its continuing ones are not.
   */
  advance(seconds: number): void {
    for (let s = 0; s < seconds; s++) this.#report(false);
  }

  /** Simulates one more second of the test and returns the report a driver sends after it. */
  next(final = false): MetricsMessage {
    const report = this.#report(final);
    const message = this.#chain.render(report);
    this.#chain.settled(report, true);
    return message;
  }

  /**
   * One more second, reported into the chain as a driver does. Reports never rendered are as
   * ones a slow publisher replaced: the next message rendered carries their histograms.
   */
  #report(final: boolean): ChainedReport {
    this.#simulateSecond(final);
    const reportId = ++this.#reportId;
    const totals = this.#totals;
    const report = this.#chain.add({
      ...totals,
      interval: this.#interval,
      errorKinds: { ...totals.errorKinds },
      statusCodes: { ...totals.statusCodes },
      elapsedMs: reportId * 1000,
      intervalRps: totals.responses - this.#lastResponses,
      unfinished: totals.requests - totals.responses - totals.errors,
      final,
    }, 0);
    resetHistograms(this.#interval);
    this.#lastResponses = totals.responses;
    return report;
  }

  /** One second of requests, added into the driver's totals. */
  #simulateSecond(final: boolean): void {
    const random = this.#random;
    const recorder = this.#recorder;
    for (let i = 0; i < this.options.rate; i++) {
      const lagUs = 20 + 400 * random() ** 4 + (random() < 0.005 ? 5_000 * random() : 0);
      recorder.requests++;
      recorder.sent(lagUs, lagUs > 2_000);
      const roll = random();
      if (roll < 0.001) {
        recorder.error("timeout", 10_000_000 + 5_000 * random());
      } else if (roll < 0.003) {
        recorder.error(roll < 0.002 ? "connect_refused" : "reset", 100 + 900 * random());
      } else {
        // Lognormal service time with a 1 % slow tail (a GC pause, a slow query).
        const slow = random() < 0.01 ? 20 + 200 * random() : 1;
        const serviceUs = this.#medianUs * Math.exp(0.5 * normal(random)) * slow;
        const status = roll < 0.006 ? 503 : roll < 0.008 ? 404 : roll < 0.0085 ? 500 : 200;
        recorder.response(status, serviceUs + lagUs, serviceUs);
      }
    }
    addSnapshot(this.#totals, recorder.snapshot(final), this.#interval);
  }
}
