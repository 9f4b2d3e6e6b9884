/**
 * A driver node's Kafka-facing logic: register, heartbeat, keep the test configs meant for this
 * node, run a test when triggered, publish its cumulative metrics every report interval and a
 * final one, stop on STOP and finish on END. All I/O goes through the injected bus, clock and
 * test runner, so the same class runs under `main.ts` and in tests.
 */
import { trimOldest } from "../shared/bounded.ts";
import type { Delivered, MessageBus, Subscription } from "../shared/bus.ts";
import type { Logger } from "../shared/log.ts";
import type {
  HeartbeatMessage,
  MetricsInput,
  TestConfigMessage,
  TriggerMessage,
} from "../shared/messages.ts";
import type { BackoffPolicy } from "../shared/backoff.ts";
import { LatestPublisher } from "./latest_publisher.ts";
import { loadSpecFromConfig, metricsMessage } from "./metrics_message.ts";
import { type PoolOptions, type PoolReport, type RunningTest, startTest } from "./pool.ts";
import { assertNever, type LoadSpec } from "./worker_protocol.ts";

/** How long a trigger that arrived before its config waits for it. */
export const PENDING_TRIGGER_MS = 10_000;
/**
 * The most test configs a node keeps, newest first: tests are triggered soon after they are
 * created, so only a test created 100 tests ago and never triggered is forgotten. Also bounds the
 * triggers waiting for their config.
 */
export const MAX_CONFIGS = 100;
/** The most ids of tests already run that a node remembers, to ignore a repeated trigger. */
export const MAX_DONE_IDS = 10_000;

/**
 * A metrics publish that failed (kafkajs gave up after about a minute of retries: Kafka is
 * away) is retried after this backoff, with the newest state, until it is out.
 */
export const METRICS_RETRY: BackoffPolicy = { initialMs: 250, maxMs: 2_000 };

/** On END or shutdown, how long the final metrics may take to get out before the driver exits. */
export const FINAL_PUBLISH_WAIT_MS = 10_000;

/** What a driver node needs. */
export interface DriverNodeDeps {
  bus: MessageBus;
  nodeId: string;
  nodeIp: string;
  workers: number;
  heartbeatMs: number;
  reportMs: number;
  logger: Logger;
  /** Wall-clock epoch milliseconds (message timestamps, trigger age). */
  now?: () => number;
  /** Runs a test; the real engine unless a test substitutes its own. */
  startTest?: (spec: LoadSpec, options: PoolOptions) => RunningTest;
  /** This run's identity (default: a fresh UUID); a restarted driver has a new one. */
  instanceId?: string;
  /** Backoff of failed metrics publishes (default {@link METRICS_RETRY}). */
  metricsRetry?: BackoffPolicy;
  /** Bound on the final publish at END or shutdown (default {@link FINAL_PUBLISH_WAIT_MS}). */
  finalWaitMs?: number;
}

/**
 * How many heartbeats after a test the driver sends its final metrics again. A duplicate changes
 * nothing (same report_id), and a final report lost on the way still reaches the orchestrator.
 */
export const FINAL_REPUBLISH_BEATS = 5;

interface Running {
  testId: string;
  test: RunningTest;
  /** Its metrics, retried until delivered; {@link DriverNode.close} bounds the final one. */
  publisher: LatestPublisher<MetricsInput>;
  /** Resolves once the final metrics message has been published (or abandoned). */
  finished: Promise<void>;
}

/** A driver node. Call {@link start}, then await {@link ended} or call {@link close}. */
export class DriverNode {
  /** Resolves when an END trigger has been handled and the final metrics are out. */
  readonly ended: Promise<void>;
  #deps: DriverNodeDeps;
  #log: Logger;
  #now: () => number;
  #configs = new Map<string, TestConfigMessage>();
  /**
   * Triggers that arrived before their config. Configs and triggers travel on different topics,
   * so Kafka does not order them; a trigger waits here for its config for a while.
   */
  #pendingTriggers = new Map<string, number>();
  #done = new Set<string>();
  #running: Running | undefined;
  #subscription: Subscription | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** One heartbeat in flight, the newest waiting: none piles up (or arrives late) in an outage. */
  #beats: LatestPublisher<HeartbeatMessage>;
  #ending = false;
  #resolveEnded!: () => void;
  readonly instanceId: string;
  /** The last test's final metrics, sent again with the next few heartbeats. */
  #lastFinal: { message: MetricsInput; beatsLeft: number } | undefined;

  constructor(deps: DriverNodeDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ node_id: deps.nodeId });
    this.#now = deps.now ?? Date.now;
    this.instanceId = deps.instanceId ?? crypto.randomUUID();
    this.ended = new Promise((resolve) => this.#resolveEnded = resolve);
    this.#beats = new LatestPublisher(
      (beat) => deps.bus.publish("heartbeat", beat, deps.nodeId),
      (_beat, err) => this.#log.warn("heartbeat not sent", { error: err }),
    );
  }

  /** The test being run now, if any. */
  get runningTestId(): string | undefined {
    return this.#running?.testId;
  }

  /** Subscribes, then registers and starts heartbeating. */
  async start(): Promise<void> {
    const { bus, nodeId } = this.#deps;
    // Our own group, from the beginning: configs sent before this node started still count;
    // triggers from before it started are recognised by their offsets and ignored.
    this.#subscription = await bus.subscribe({
      groupId: `surge-driver-${nodeId}-${crypto.randomUUID()}`,
      kinds: ["test_config", "trigger"],
      fromBeginning: true,
      onMessage: (delivered) => this.#onMessage(delivered),
    });
    await bus.publish("register", {
      node_id: nodeId,
      node_IP: this.#deps.nodeIp,
      message_type: "DRIVER_NODE_REGISTER",
      timestamp: this.#now(),
      workers: this.#deps.workers,
      instance_id: this.instanceId,
    }, nodeId);
    this.#log.info("registered", { workers: this.#deps.workers });
    this.#beat();
    this.#heartbeat = setInterval(() => this.#beat(), this.#deps.heartbeatMs);
  }

  #beat(): void {
    this.#beats.offer({
      node_id: this.#deps.nodeId,
      heartbeat: "YES",
      timestamp: this.#now(),
      test_id: this.#running?.testId ?? null,
      interval_ms: this.#deps.heartbeatMs,
      instance_id: this.instanceId,
    });
    const last = this.#lastFinal;
    if (last !== undefined && last.beatsLeft-- > 0) {
      this.#deps.bus.publish("metrics", last.message, this.#deps.nodeId).catch((err) =>
        this.#log.warn("final metrics not sent again", { error: err })
      );
    }
  }

  #onMessage(delivered: Delivered): void {
    switch (delivered.kind) {
      case "test_config":
        this.#onConfig(delivered.message);
        break;
      case "trigger":
        this.#onTrigger(delivered.message, delivered.old === true);
        break;
      case "register":
      case "metrics":
      case "heartbeat":
        break; // not subscribed
      default:
        assertNever(delivered, "delivery");
    }
    this.#prune();
  }

  /** Keeps only the newest entries of what the test ids on Kafka fill (see shared/bounded.ts). */
  #prune(): void {
    trimOldest(this.#configs, MAX_CONFIGS);
    trimOldest(this.#pendingTriggers, MAX_CONFIGS);
    trimOldest(this.#done, MAX_DONE_IDS);
  }

  #forMe(drivers: readonly string[] | undefined): boolean {
    return drivers === undefined || drivers.length === 0 || drivers.includes(this.#deps.nodeId);
  }

  #onConfig(config: TestConfigMessage): void {
    if (!this.#forMe(config.drivers)) {
      this.#log.debug("config is for other drivers", { test_id: config.test_id });
      return;
    }
    this.#configs.set(config.test_id, config);
    this.#log.info("test configured", { test_id: config.test_id, test_type: config.test_type });
    const waitingSince = this.#pendingTriggers.get(config.test_id);
    if (waitingSince !== undefined) {
      this.#pendingTriggers.delete(config.test_id);
      if (this.#now() - waitingSince <= PENDING_TRIGGER_MS) this.#run(config.test_id);
    }
  }

  /**
   * `old`: the trigger was already on the topic when this driver subscribed, so it was sent
   * before the driver started (Kafka's offsets say so; no clocks are compared across hosts).
   */
  #onTrigger(trigger: TriggerMessage, old: boolean): void {
    const testId = trigger.trigger === "END" ? undefined : trigger.test_id;
    if (old) {
      this.#log.info("ignoring a trigger sent before this driver started", {
        trigger: trigger.trigger,
        test_id: testId,
      });
      return;
    }
    switch (trigger.trigger) {
      case "YES":
        if (this.#forMe(trigger.drivers)) this.#run(trigger.test_id);
        break;
      case "STOP":
        this.#pendingTriggers.delete(trigger.test_id);
        if (this.#running?.testId === trigger.test_id) {
          this.#log.info("stopping test", { test_id: trigger.test_id });
          this.#running.test.stop();
        }
        break;
      case "END":
        if (this.#forMe(trigger.drivers)) this.#end();
        break;
      default:
        assertNever(trigger, "trigger");
    }
  }

  #run(testId: string): void {
    const config = this.#configs.get(testId);
    if (config === undefined) {
      this.#log.info("trigger for a test not configured (yet): waiting for its config", {
        test_id: testId,
        wait_ms: PENDING_TRIGGER_MS,
      });
      this.#forgetStaleTriggers();
      this.#pendingTriggers.set(testId, this.#now());
      return;
    }
    if (this.#done.has(testId)) {
      this.#log.info("ignoring a repeated trigger for a test already run", { test_id: testId });
      return;
    }
    if (this.#running !== undefined || this.#ending) {
      this.#log.warn("ignoring a trigger: busy", {
        test_id: testId,
        running: this.#running?.testId,
      });
      return;
    }
    this.#done.add(testId);
    const { bus, nodeId } = this.#deps;
    let reportId = 0;
    const publisher = new LatestPublisher<MetricsInput>(
      (message) => bus.publish("metrics", message, nodeId),
      (message, err, failures) =>
        this.#log.error("metrics not sent; retrying with the newest state", {
          test_id: testId,
          report_id: message.report_id,
          final: message.final,
          failures,
          error: err,
        }),
      { retry: this.#deps.metricsRetry ?? METRICS_RETRY },
    );
    const onReport = (report: PoolReport) => {
      const message = metricsMessage(
        { nodeId, instanceId: this.instanceId },
        testId,
        ++reportId,
        report,
        this.#now(),
      );
      if (message.final) this.#lastFinal = { message, beatsLeft: FINAL_REPUBLISH_BEATS };
      publisher.offer(message);
    };
    const run = this.#deps.startTest ?? startTest;
    this.#log.info("test started", { test_id: testId });
    const test = run(loadSpecFromConfig(config), {
      workers: this.#deps.workers,
      reportMs: this.#deps.reportMs,
      onReport,
    });
    const finished = test.done.then(async (final) => {
      await publisher.flush();
      this.#log.info("test finished", {
        test_id: testId,
        requests: final.requests,
        responses: final.responses,
        errors: final.errors,
        seconds: Math.round(final.elapsedMs) / 1000,
        ...(final.error === undefined ? {} : { error: final.error }),
      });
    }).finally(() => {
      if (this.#running?.testId === testId) this.#running = undefined;
      if (this.#heartbeat !== undefined) this.#beat(); // tell the orchestrator we are idle now
    });
    this.#running = { testId, test, publisher, finished };
    if (this.#heartbeat !== undefined) this.#beat(); // tell the orchestrator we are busy now
  }

  #forgetStaleTriggers(): void {
    const now = this.#now();
    for (const [testId, since] of this.#pendingTriggers) {
      if (now - since > PENDING_TRIGGER_MS) {
        this.#pendingTriggers.delete(testId);
        this.#log.warn("ignoring a trigger for an unknown test", { test_id: testId });
      }
    }
  }

  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#log.info("END received: finishing");
    const running = this.#running;
    running?.test.stop();
    this.#finishWithin(running).then(() => this.#resolveEnded());
  }

  /**
   * Waits for a stopping test's end, then at most {@link FINAL_PUBLISH_WAIT_MS} for its final
   * metrics (Kafka may be away): a driver told to exit must exit, even without them.
   */
  async #finishWithin(running: Running | undefined): Promise<void> {
    if (running === undefined) return;
    await running.test.done;
    const waitMs = this.#deps.finalWaitMs ?? FINAL_PUBLISH_WAIT_MS;
    if (!await running.publisher.settle(waitMs)) {
      this.#log.error("final metrics not delivered in time; exiting without them", {
        test_id: running.testId,
        wait_ms: waitMs,
      });
    }
    await running.finished;
  }

  /** Stops any running test (its final metrics still go out), heartbeats and the subscription. */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const running = this.#running;
    running?.test.stop();
    await this.#finishWithin(running);
    this.#beats.abandon();
    await this.#subscription?.close();
    this.#subscription = undefined;
  }
}
