/**
 * One test run on a driver node: the engine started with the test's config once its target has
 * passed the node's target policy (target_guard.ts), and every report it makes published as a
 * metrics message with an increasing report_id (metrics_chain.ts), retried with the newest state
 * while Kafka is away, until the final one is out. A refused test publishes one final report
 * saying so.
 */
import type { BackoffPolicy } from "../shared/backoff.ts";
import type { MessageBus } from "../shared/bus.ts";
import type { Logger } from "../shared/log.ts";
import type { MetricsInput, TestConfigMessage } from "../shared/messages.ts";
import { LatestPublisher } from "./latest_publisher.ts";
import { type ChainedReport, MetricsChain } from "./metrics_chain.ts";
import { loadSpecFromConfig } from "./metrics_message.ts";
import { type PoolOptions, type PoolReport, type RunningTest, startTest } from "./pool.ts";
import { resolveHost } from "./resolve_host.ts";
import { guardTargets, type Resolve } from "./target_guard.ts";
import { DEFAULT_POLICY, type TargetPolicy } from "./target_policy.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/**
 * A metrics publish that failed (kafkajs gave up after about a minute of retries: Kafka is
 * away) is retried after this backoff, with the newest state, until it is out.
 */
export const METRICS_RETRY: BackoffPolicy = { initialMs: 250, maxMs: 2_000 };

/** A test being run. */
export interface TestRun {
  testId: string;
  test: RunningTest;
  /** Its metrics, retried until delivered; the node bounds the wait for the final one. */
  publisher: LatestPublisher<ChainedReport>;
  /** Resolves once the final metrics message has been published (or abandoned). */
  finished: Promise<void>;
}

/** What a test run needs of its node. */
export interface TestRunDeps {
  bus: MessageBus;
  nodeId: string;
  instanceId: string;
  workers: number;
  reportMs: number;
  logger: Logger;
  /** Wall-clock epoch milliseconds, the metrics' timestamps. */
  now: () => number;
  /** Runs a test; the real engine unless a test substitutes its own. */
  startTest?: (spec: LoadSpec, options: PoolOptions) => RunningTest;
  /** Backoff of failed metrics publishes (default {@link METRICS_RETRY}). */
  metricsRetry?: BackoffPolicy;
  /** Where tests may aim (default: anything but link-local and metadata addresses). */
  targets?: TargetPolicy;
  /** Resolves a target's host name for the policy (default: the system resolver). */
  resolve?: Resolve;
}

/** What the node is told of a run. */
export interface TestRunHooks {
  /** The final metrics message, each time it is about to be published. */
  onFinal: (message: MetricsInput) => void;
  /** The run is over and its final metrics are out (or were given up). */
  onFinished: () => void;
}

/** Starts running test `testId` with `config`, publishing its metrics. */
export function startTestRun(
  deps: TestRunDeps,
  testId: string,
  config: TestConfigMessage,
  hooks: TestRunHooks,
): TestRun {
  const { bus, nodeId, logger: log } = deps;
  const chain = new MetricsChain({ nodeId, instanceId: deps.instanceId }, testId);
  const publish = async (report: ChainedReport) => {
    const message = chain.render(report);
    if (message.final) hooks.onFinal(message);
    try {
      await bus.publish("metrics", message, nodeId);
    } catch (err) {
      chain.settled(report, false);
      throw err;
    }
    chain.settled(report, true);
  };
  const publisher = new LatestPublisher<ChainedReport>(
    publish,
    (report, err, failures) =>
      log.error("metrics not sent; retrying with the newest state", {
        test_id: testId,
        report_id: report.reportId,
        final: report.counts.final,
        failures,
        error: err,
      }),
    { retry: deps.metricsRetry ?? METRICS_RETRY },
  );
  const onReport = (report: PoolReport) => publisher.offer(chain.add(report, deps.now()));
  const run = guardTargets(deps.startTest ?? startTest, {
    policy: deps.targets ?? DEFAULT_POLICY,
    resolve: deps.resolve ?? resolveHost,
    onRefused: (reason) =>
      log.warn("test refused: target not allowed", { test_id: testId, reason }),
  });
  log.info("test started", { test_id: testId });
  const test = run(loadSpecFromConfig(config), {
    workers: deps.workers,
    reportMs: deps.reportMs,
    onReport,
  });
  const finished = test.done.then(async (final) => {
    await publisher.flush();
    log.info("test finished", {
      test_id: testId,
      requests: final.requests,
      responses: final.responses,
      errors: final.errors,
      seconds: Math.round(final.elapsedMs) / 1000,
      ...(final.error === undefined ? {} : { error: final.error }),
    });
  }).finally(hooks.onFinished);
  return { testId, test, publisher, finished };
}
