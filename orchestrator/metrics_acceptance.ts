/**
 * Which metrics message may change which test. Only the drivers a test was triggered on count,
 * only the run (instance) of each that was triggered, only within the test's window, and a
 * settled test only for {@link SETTLED_GRACE_MS} and only for a report newer than every stored
 * one. Pure: the test book looks the test up and counts the verdict.
 */
import type { MetricsMessage } from "../shared/messages.ts";
import type { TestRecord } from "./store.ts";

/**
 * After a test has settled, late metrics (a final report delayed on the way) still count for
 * this long; then the result is frozen.
 */
export const SETTLED_GRACE_MS = 30_000;
/** Slack on a test's window for the last requests and the last report. */
export const WINDOW_SLACK_MS = 60_000;
/** A count-limited test (no duration) gets the longest duration a test may have: a day. */
const UNBOUNDED_DURATION_MS = 86_400_000;

/** What a test's window is made of. */
export type WindowConfig = Pick<TestRecord["config"], "duration_s" | "timeout_ms">;

/** The longest elapsed time a report of a test with this config can honestly claim. */
export function windowMs(config: WindowConfig): number {
  const duration = config.duration_s == null ? UNBOUNDED_DURATION_MS : config.duration_s * 1000;
  return duration + config.timeout_ms + WINDOW_SLACK_MS;
}

/** Why a metrics message may not change its test: the counter it goes to, and a log line. */
export interface Rejection {
  counter:
    | "metrics_unknown_test"
    | "metrics_frozen"
    | "metrics_ignored"
    | "metrics_unchosen"
    | "metrics_foreign_run"
    | "metrics_out_of_window";
  why: string;
}

/** The test a metrics message names, as the book holds it. */
export interface MetricsSubject {
  record: Pick<TestRecord, "lifecycle" | "ended_at"> & { config: WindowConfig };
  /**
   * Set once the test is no longer open (its settlement is stored): the newest stored report id
   * of the message's driver. A function, so the store is asked only when the grace allows.
   */
  storedReportId?: () => number;
}

/** The fields of a metrics message the rules read. */
export type MetricsClaim = Pick<
  MetricsMessage,
  "node_id" | "instance_id" | "report_id" | "elapsed_ms"
>;

/**
 * Why `message` may not change `subject` (undefined: it may), `now` in epoch ms. The checks run
 * in a fixed order, so a message that breaks several rules is counted once, under the first.
 */
export function metricsRejection(
  message: MetricsClaim,
  subject: MetricsSubject | undefined,
  now: number,
): Rejection | undefined {
  if (subject === undefined) return { counter: "metrics_unknown_test", why: "unknown test" };
  const { record, storedReportId } = subject;
  if (storedReportId !== undefined) {
    if (now - (record.ended_at ?? 0) > SETTLED_GRACE_MS) {
      return { counter: "metrics_frozen", why: "the test settled; its result is frozen" };
    }
    if (message.report_id <= storedReportId()) {
      return { counter: "metrics_ignored", why: "not newer than a stored report" };
    }
  }
  const { lifecycle } = record;
  if (!(message.node_id in lifecycle.drivers)) {
    return { counter: "metrics_unchosen", why: "the test was not triggered on this driver" };
  }
  const run = lifecycle.instances?.[message.node_id];
  if (run !== undefined && message.instance_id !== undefined && message.instance_id !== run) {
    return {
      counter: "metrics_foreign_run",
      why: "from another run of the driver than the one triggered",
    };
  }
  if (message.elapsed_ms > windowMs(record.config)) {
    return { counter: "metrics_out_of_window", why: "elapsed time beyond the test's window" };
  }
  return undefined;
}
