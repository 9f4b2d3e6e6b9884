/**
 * What became of the metrics messages the orchestrator read, counted for `/healthz`. Most that do
 * not count are normal on Kafka (duplicates, late reports) and logged at debug level only, so
 * these counters are where an operator sees how many there were.
 */

/** Counts of metrics messages by what became of them, for `/healthz`. */
export interface MetricsCounters {
  metrics_accepted: number;
  /** Duplicates and reports older than one already taken. */
  metrics_ignored: number;
  metrics_unknown_test: number;
  /**
   * Histograms continuing from a report that was not taken (one lost, or refused): the driver's
   * next cumulative report, at most 10 reports later, brings its figures up to date.
   */
  metrics_unchained: number;
  /** Histograms that do not decode, or that disagree with the message's counters. */
  metrics_bad_histogram: number;
  /** From a driver the test was not triggered on. */
  metrics_unchosen: number;
  /** From another run (instance) of a chosen driver than the one triggered. */
  metrics_foreign_run: number;
  /** Claiming an elapsed time beyond the test's window. */
  metrics_out_of_window: number;
  /** For a test settled longer than the grace period ago: its result is frozen. */
  metrics_frozen: number;
  /** For a test whose stored data cannot be read: stored as received, aggregated by nobody. */
  metrics_corrupt_test: number;
  /** Messages or checks that failed with an error (logged), never crashing the process. */
  handler_errors: number;
  /**
   * test_config and trigger messages refused (logged): unsigned or badly signed while this
   * orchestrator has a fleet key, or a config that reuses a known test id.
   */
  commands_refused: number;
}

/** Every counter at zero, as at start. */
export function zeroCounters(): MetricsCounters {
  return {
    metrics_accepted: 0,
    metrics_ignored: 0,
    metrics_unchained: 0,
    metrics_unknown_test: 0,
    metrics_bad_histogram: 0,
    metrics_unchosen: 0,
    metrics_foreign_run: 0,
    metrics_out_of_window: 0,
    metrics_frozen: 0,
    metrics_corrupt_test: 0,
    handler_errors: 0,
    commands_refused: 0,
  };
}
