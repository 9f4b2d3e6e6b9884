/**
 * A driver node: it registers, heartbeats (heartbeat.ts), takes the test configs and triggers
 * meant for it (trigger_inbox.ts), runs one test at a time (test_run.ts), and on END or shutdown
 * waits a bounded time for the last test's final metrics, then ends. All I/O goes through the
 * injected bus, clock and test runner, so the same class runs under `main.ts` and in tests.
 */
import type { BackoffPolicy } from "../shared/backoff.ts";
import type { MessageBus, Subscription } from "../shared/bus.ts";
import { driverGroup } from "../shared/groups.ts";
import type { Logger } from "../shared/log.ts";
import type { FleetKey } from "../shared/fleet_key.ts";
import type { TestConfigMessage } from "../shared/messages.ts";
import { Heartbeat } from "./heartbeat.ts";
import type { PoolOptions, RunningTest } from "./pool.ts";
import type { Resolve } from "./target_guard.ts";
import type { TargetPolicy } from "./target_policy.ts";
import { startTestRun, type TestRun } from "./test_run.ts";
import { TriggerInbox } from "./trigger_inbox.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/** On END or shutdown, how long the final metrics may take to get out before the driver exits. */
export const FINAL_PUBLISH_WAIT_MS = 10_000;
/**
 * Then how long the last heartbeat (`leaving`) may take: without it the orchestrator still sees
 * the driver go, as `lost` after its silence, so it is not worth a long wait.
 */
export const LEAVE_WAIT_MS = 2_000;

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
  /** Backoff of failed metrics publishes (default: test_run.ts METRICS_RETRY). */
  metricsRetry?: BackoffPolicy;
  /** Bound on the final publish at END or shutdown (default {@link FINAL_PUBLISH_WAIT_MS}). */
  finalWaitMs?: number;
  /** Bound on the leaving heartbeat at END or shutdown (default {@link LEAVE_WAIT_MS}). */
  leaveWaitMs?: number;
  /** With a key, only commands signed with it are obeyed (shared/command_signature.ts). */
  fleetKey?: FleetKey;
  /** Where tests may aim (default: anything but link-local and metadata addresses). */
  targets?: TargetPolicy;
  /** Resolves a target's host name for the policy (default: the system resolver). */
  resolve?: Resolve;
}

/** A driver node. Call {@link start}, then await {@link ended} or call {@link close}. */
export class DriverNode {
  /** Resolves when an END trigger has been handled and the final metrics are out. */
  readonly ended: Promise<void>;
  /** This run's identity, in every message it sends; a restarted driver has a new one. */
  readonly instanceId: string;
  #deps: DriverNodeDeps;
  #log: Logger;
  #now: () => number;
  #inbox: TriggerInbox;
  #heartbeat: Heartbeat;
  #running: TestRun | undefined;
  #subscription: Subscription | undefined;
  #ending = false;
  #resolveEnded!: () => void;

  constructor(deps: DriverNodeDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ node_id: deps.nodeId });
    this.#now = deps.now ?? Date.now;
    this.instanceId = deps.instanceId ?? crypto.randomUUID();
    this.ended = new Promise((resolve) => this.#resolveEnded = resolve);
    this.#heartbeat = new Heartbeat({
      bus: deps.bus,
      nodeId: deps.nodeId,
      instanceId: this.instanceId,
      intervalMs: deps.heartbeatMs,
      logger: this.#log,
      now: this.#now,
      testId: () => this.#running?.testId,
    });
    this.#inbox = new TriggerInbox({
      nodeId: deps.nodeId,
      logger: this.#log,
      now: this.#now,
      fleetKey: deps.fleetKey,
      node: {
        runningTestId: () => this.#running?.testId,
        ending: () => this.#ending,
        run: (testId, config) => this.#run(testId, config),
        stop: (testId) => this.#stop(testId),
        end: () => this.#end(),
      },
    });
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
      groupId: driverGroup(nodeId, crypto.randomUUID()),
      kinds: ["test_config", "trigger"],
      fromBeginning: true,
      onMessage: (delivered) => this.#inbox.onMessage(delivered),
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
    this.#heartbeat.start();
  }

  #run(testId: string, config: TestConfigMessage): void {
    this.#running = startTestRun(
      { ...this.#deps, instanceId: this.instanceId, logger: this.#log, now: this.#now },
      testId,
      config,
      {
        onFinal: (message) => this.#heartbeat.repeatFinal(message),
        onFinished: () => {
          if (this.#running?.testId === testId) this.#running = undefined;
          this.#heartbeat.beat(); // tell the orchestrator we are idle now
        },
      },
    );
    this.#heartbeat.beat(); // tell the orchestrator we are busy now
  }

  #stop(testId: string): void {
    if (this.#running?.testId !== testId) return;
    this.#log.info("stopping test", { test_id: testId });
    this.#running.test.stop();
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
  async #finishWithin(running: TestRun | undefined): Promise<void> {
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

  /**
   * Stops any running test (its final metrics still go out), then says it is leaving in a last
   * heartbeat (bounded by {@link LEAVE_WAIT_MS}), then closes the subscription. Triggers that
   * arrive meanwhile start nothing.
   */
  async close(): Promise<void> {
    this.#ending = true;
    this.#heartbeat.stop();
    const running = this.#running;
    running?.test.stop();
    await this.#finishWithin(running);
    // After the final report: the orchestrator reads "left" once nothing more is due from us.
    await this.#heartbeat.leave(this.#deps.leaveWaitMs ?? LEAVE_WAIT_MS);
    await this.#subscription?.close();
    this.#subscription = undefined;
  }
}
