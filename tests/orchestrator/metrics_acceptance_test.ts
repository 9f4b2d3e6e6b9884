/**
 * The rules of which metrics message may change which test, row by row; the acceptance test
 * (acceptance_test.ts) checks the same through the controller and a real store.
 */
import assert from "node:assert/strict";
import {
  type MetricsClaim,
  metricsRejection,
  type MetricsSubject,
  SETTLED_GRACE_MS,
  WINDOW_SLACK_MS,
  type WindowConfig,
  windowMs,
} from "../../orchestrator/metrics_acceptance.ts";

const ENDED = 1_000_000;
/** 10 s duration + 10 s timeout + the slack. */
const WINDOW = 20_000 + WINDOW_SLACK_MS;

/** t1 triggered on drivers a (run ra) and b (run unknown), settled at ENDED. */
const record: MetricsSubject["record"] = {
  config: { duration_s: 10, timeout_ms: 10_000 },
  lifecycle: { state: "finished", drivers: { a: "final", b: "final" }, instances: { a: "ra" } },
  ended_at: ENDED,
};
const open: MetricsSubject = { record };
/** The same test once its settlement is stored, driver a's newest stored report being 5. */
const stored: MetricsSubject = { record, storedReportId: () => 5 };

const claim = (over: Partial<MetricsClaim> = {}): MetricsClaim => ({
  node_id: "a",
  instance_id: "ra",
  report_id: 6,
  elapsed_ms: 10_000,
  ...over,
});

/** The last moment a settled test takes a report. */
const GRACE_END = ENDED + SETTLED_GRACE_MS;

/** name, what differs from {@link claim}, the test, now, the counter it goes to (none: taken). */
type Row = [string, Partial<MetricsClaim>, MetricsSubject | undefined, number, string?];

Deno.test("metricsRejection() takes only the triggered drivers' runs, in the window, within the grace", () => {
  const rows: Row[] = [
    ["a chosen driver's run in the window", {}, open, ENDED],
    ["a test nobody knows", {}, undefined, ENDED, "metrics_unknown_test"],
    ["a driver not triggered", { node_id: "c" }, open, ENDED, "metrics_unchosen"],
    ["another run of a chosen driver", { instance_id: "rb" }, open, ENDED, "metrics_foreign_run"],
    ["a driver whose run is not known", { node_id: "b", instance_id: "x" }, open, ENDED],
    ["a message that names no run", { instance_id: undefined }, open, ENDED],
    ["at the window's end", { elapsed_ms: WINDOW }, open, ENDED],
    ["beyond the window", { elapsed_ms: WINDOW + 1 }, open, ENDED, "metrics_out_of_window"],
    ["open (settlement not stored) long after its end", {}, open, GRACE_END * 10],
    ["settled, a newer report at the grace's end", {}, stored, GRACE_END],
    ["settled, after the grace", {}, stored, GRACE_END + 1, "metrics_frozen"],
    ["settled, a report already stored", { report_id: 5 }, stored, ENDED, "metrics_ignored"],
    ["settled, a driver not triggered", { node_id: "c" }, stored, ENDED, "metrics_unchosen"],
  ];
  for (const [name, over, subject, now, counter] of rows) {
    assert.equal(metricsRejection(claim(over), subject, now)?.counter, counter, name);
  }
});

Deno.test("metricsRejection() asks the store nothing for a frozen test", () => {
  const frozen: MetricsSubject = {
    record,
    storedReportId: () => assert.fail("the stored report id was asked for"),
  };
  const rejection = metricsRejection(claim(), frozen, GRACE_END + 1);
  assert.equal(rejection?.counter, "metrics_frozen");
});

Deno.test("windowMs() is the duration, or a day without one, plus the timeout and the slack", () => {
  const day = 86_400_000 + 1000 + WINDOW_SLACK_MS;
  const rows: [string, WindowConfig, number][] = [
    ["10 s test", { duration_s: 10, timeout_ms: 10_000 }, WINDOW],
    ["count-limited test", { duration_s: null, timeout_ms: 1000 }, day],
    ["duration left out", { timeout_ms: 1000 }, day],
  ];
  for (const [name, config, expected] of rows) assert.equal(windowMs(config), expected, name);
});
