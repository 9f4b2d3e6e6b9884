/**
 * A driver's metrics messages for one test, as a chain. Counters are always cumulative; the
 * histograms are sent cumulative only when the receiver may lack what came before, and otherwise
 * as the requests that ended since the previous message (`histograms_since`), which stays the
 * size of one interval while a cumulative histogram grows with the test's age. Cumulative are:
 * the first message, every {@link CUMULATIVE_EVERY}th (so a receiver that missed one catches up
 * within that many), the final one, and the one after a publish that failed (it may not have
 * arrived).
 *
 * A message is rendered when it is sent, not when its report is made: while Kafka is slow the
 * publisher replaces a waiting report with a newer one (latest_publisher.ts), and the newer one
 * then carries the histograms of both. Pure: no clock, no I/O.
 */
import { metricsMessage, type ReportCounts } from "./metrics_message.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import type { PoolReport } from "./pool.ts";
import { addHistograms, createHistogramSet, resetHistograms } from "./totals.ts";

/** Every this many reports (counted from the last cumulative one), one is cumulative again. */
export const CUMULATIVE_EVERY = 10;

/** One report, numbered, waiting to be rendered into a message. */
export interface ChainedReport {
  reportId: number;
  counts: ReportCounts;
  /** Wall-clock epoch ms when the report was made. */
  timestamp: number;
}

/** The message rendered last and what became of it. */
interface Rendered {
  reportId: number;
  outcome: "sending" | "delivered" | "failed";
}

/** The chain of one test's metrics messages from one driver. */
export class MetricsChain {
  #driver: { nodeId: string; instanceId: string };
  #testId: string;
  #every: number;
  /** The driver's histograms as of the report rendered last. */
  #cumulative = createHistogramSet();
  /** The histograms of the reports added since. */
  #pending = createHistogramSet();
  #newest = 0;
  #lastCumulative = 0;
  #rendered: Rendered | undefined;

  constructor(
    driver: { nodeId: string; instanceId: string },
    testId: string,
    every = CUMULATIVE_EVERY,
  ) {
    this.#driver = driver;
    this.#testId = testId;
    this.#every = every;
  }

  /** Takes a report as the pool makes it (its interval is read now) and numbers it. */
  add(report: PoolReport, timestamp: number): ChainedReport {
    addHistograms(this.#pending, report.interval);
    const {
      interval: _interval,
      histogram: _all,
      failedHistogram: _failed,
      serviceHistogram: _service,
      lagHistogram: _lag,
      ...counts
    } = report;
    return { reportId: ++this.#newest, counts, timestamp };
  }

  /**
   * The message for `report`, which must be the newest added: a newer one replaces an older one
   * before it is sent, so only the newest is ever rendered (and rendered again after a failed
   * publish). Say what became of it with {@link settled}.
   */
  render(report: ChainedReport): MetricsMessage {
    if (report.reportId !== this.#newest) {
      throw new Error(`report ${report.reportId} rendered after report ${this.#newest}`);
    }
    addHistograms(this.#cumulative, this.#pending);
    const previous = this.#rendered;
    const continuing = previous?.outcome === "delivered" && !report.counts.final &&
      report.reportId - this.#lastCumulative < this.#every;
    const message = metricsMessage(
      this.#driver,
      this.#testId,
      report.reportId,
      report.counts,
      report.timestamp,
      {
        cumulative: this.#cumulative,
        ...(continuing ? { continuing: { since: previous!.reportId, added: this.#pending } } : {}),
      },
    );
    resetHistograms(this.#pending);
    if (!continuing) this.#lastCumulative = report.reportId;
    this.#rendered = { reportId: report.reportId, outcome: "sending" };
    return message;
  }

  /** Whether the message rendered for `report` was published (acknowledged by Kafka). */
  settled(report: ChainedReport, delivered: boolean): void {
    if (this.#rendered?.reportId === report.reportId) {
      this.#rendered.outcome = delivered ? "delivered" : "failed";
    }
  }
}
