/**
 * The runtime controller: consumes `register`, `heartbeat` and `metrics`, keeps the driver
 * registry and the tests' aggregates, judges liveness (liveness.ts), mirrors the cluster's commands
 * (command_mirror.ts) and hands the API's commands to test_commands.ts. All I/O goes through the
 * injected bus, store and clock.
 *
 * Restart: a test that was running is kept running. Its snapshots are replayed from the store,
 * and the metrics consumer group is stable across restarts, so the metrics that arrived while
 * the orchestrator was down are read from Kafka; its drivers are expected to heartbeat within
 * the usual window and are lost otherwise, which settles the test like any other loss.
 */
import type { Driver, TestParams, TestSummary, TestView, TimeSeries } from "../shared/api.ts";
import {
  type Delivered,
  isTransient,
  type LinkState,
  type MessageBus,
  type Subscription,
} from "../shared/bus.ts";
import type { FleetKey } from "../shared/fleet_key.ts";
import type { Logger } from "../shared/log.ts";
import { DriverRegistry } from "./registry.ts";
import { Retention, type RetentionPolicy } from "./retention.ts";
import type { Store } from "./store.ts";
import type { MetricsCounters } from "./metrics_counters.ts";
import { TestBook } from "./test_book.ts";
import { CommandMirror } from "./command_mirror.ts";
import { TestCommands } from "./test_commands.ts";
import { ChannelProbe } from "./channel_probe.ts";
import { Liveness } from "./liveness.ts";

/**
 * Heartbeats and metrics arrive from every driver every second or faster: they are fetched in
 * batches, each waiting at most this long on the broker. Fetching (and acknowledging) each
 * message alone cost the orchestrator about half a millisecond of CPU per message; this adds at
 * most 100 ms to how stale its view is (README "Metric semantics").
 */
const FETCH_BATCH_MS = 100;

/**
 * Heartbeats and metrics are acknowledged to Kafka once a second (SubscribeOptions.commitEveryMs):
 * after a crash up to a second of them is read again, which changes nothing (a report's
 * `report_id` is not newer, a heartbeat only says again that its driver was alive).
 */
const COMMIT_EVERY_MS = 1_000;

/** Settings of the controller. */
export interface ControllerOptions {
  heartbeatMs: number;
  lostAfter: number;
  /** Consumer group for metrics: keep it stable across restarts to resume where it stopped. */
  metricsGroupId: string;
  /** Consumer group for register and heartbeat: fresh per start (only the present matters). */
  liveGroupId: string;
  /** How often liveness is checked; 0 disables the timer (tests call `tick()`). */
  sweepMs?: number;
  /** How long a stopped test waits for its drivers' final metrics before counting them lost. */
  drainTimeoutMs?: number;
  /** Which settled tests to keep; applied at start and after a test settles. Absent: all. */
  retention?: RetentionPolicy;
  /**
   * After the orchestrator hears Kafka again, how much longer than the usual window a driver
   * has to be heard: its own Kafka client may be up to one retry wait (2 s in shared/kafka.ts)
   * from noticing that the broker is back.
   */
  reconnectGraceMs?: number;
  /**
   * How often a probe goes out on the heartbeat topic to tell a stalled topic from silent
   * drivers (heartbeat_channel.ts); 0 or absent: no probes, the topic is taken to deliver.
   */
  probeMs?: number;
}

/** What the controller is built from. */
export interface ControllerDeps {
  bus: MessageBus;
  store: Store;
  logger: Logger;
  options: ControllerOptions;
  now?: () => number;
  newTestId?: () => string;
  /** With a key, commands go out signed and only signed ones are mirrored. */
  fleetKey?: FleetKey;
  /** Names this process's probes (default: a random UUID). */
  probeId?: string;
}

/** The orchestrator's runtime controller. */
export class Controller {
  readonly registry: DriverRegistry;
  #deps: ControllerDeps;
  #log: Logger;
  #now: () => number;
  #book: TestBook;
  #retention: Retention;
  #subscriptions: Subscription[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #probe: ChannelProbe | undefined;
  #liveness: Liveness;
  #mirror: CommandMirror;
  #commands: TestCommands;
  #recovered = false;

  constructor(deps: ControllerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: "controller" });
    this.#now = deps.now ?? Date.now;
    this.registry = new DriverRegistry({
      heartbeatMs: deps.options.heartbeatMs,
      lostAfter: deps.options.lostAfter,
    });
    this.#book = new TestBook({ store: deps.store, logger: this.#log, now: this.#now });
    this.#retention = new Retention({
      book: this.#book,
      store: deps.store,
      policy: deps.options.retention,
      logger: this.#log,
      now: this.#now,
    });
    this.#mirror = new CommandMirror({
      book: this.#book,
      registry: this.registry,
      logger: this.#log,
      now: this.#now,
      fleetKey: deps.fleetKey,
    });
    this.#liveness = new Liveness({
      registry: this.registry,
      book: this.#book,
      logger: this.#log,
      link: () => deps.bus.link(),
      drainTimeoutMs: deps.options.drainTimeoutMs ?? 10_000,
      reconnectGraceMs: deps.options.reconnectGraceMs ?? 2_000,
    });
    this.#commands = new TestCommands({
      bus: deps.bus,
      book: this.#book,
      registry: this.registry,
      retention: this.#retention,
      logger: this.#log,
      now: this.#now,
      newTestId: deps.newTestId,
      fleetKey: deps.fleetKey,
    });
  }

  /** What became of the metrics messages so far. */
  get counters(): MetricsCounters {
    return this.#book.counters;
  }

  /**
   * Loads the tests left open by the previous run from the store, once: called before the API
   * serves, so a test that was running is read as running, with its numbers, while Kafka is
   * still being reached ({@link start} calls it too).
   */
  recover(): void {
    if (this.#recovered) return;
    this.#book.recover();
    this.#recovered = true;
  }

  /**
   * Recovers open tests from the store, subscribes to the bus and starts the liveness timer.
   * The drivers of a recovered running test are expected: lost unless they heartbeat in time.
   */
  async start(): Promise<void> {
    this.recover();
    this.#liveness.expectRecovered(this.#now());
    for (const record of this.#book.open()) {
      if (record.lifecycle.state === "running") {
        this.#log.info("resuming a test that was running before the restart", {
          test_id: record.test_id,
        });
      }
    }
    this.#retention.upkeep();
    const { bus, options } = this.#deps;
    const onMessage = (d: Delivered) => this.handle(d);
    this.#subscriptions.push(
      // Registrations are replayed from the start, so a driver that registered just before (or
      // while) this orchestrator started is still known with its address.
      await bus.subscribe({
        groupId: `${options.liveGroupId}-register`,
        kinds: ["register"],
        fromBeginning: true,
        onMessage,
      }),
      await bus.subscribe({
        groupId: options.liveGroupId,
        kinds: ["heartbeat"],
        fromBeginning: false,
        batchWaitMs: FETCH_BATCH_MS,
        commitEveryMs: COMMIT_EVERY_MS,
        onMessage,
      }),
      // The cluster's commands too, whoever published them (command_mirror.ts).
      await bus.subscribe({
        groupId: options.metricsGroupId,
        kinds: ["metrics", "test_config", "trigger"],
        fromBeginning: false,
        resumeEveryPartition: true,
        batchWaitMs: FETCH_BATCH_MS,
        commitEveryMs: COMMIT_EVERY_MS,
        onMessage,
      }),
    );
    if ((options.probeMs ?? 0) > 0) {
      const id = this.#deps.probeId ?? crypto.randomUUID();
      this.#probe = new ChannelProbe({
        bus,
        logger: this.#log,
        now: this.#now,
        id,
        probeMs: options.probeMs!,
      });
      this.#probe.start();
    }
    this.#liveness.started(this.#now(), this.#probe);
    const sweepMs = options.sweepMs ?? 100;
    if (sweepMs > 0) this.#timer = setInterval(() => this.tick(), sweepMs);
  }

  /** Stops the timer and the subscriptions (the bus and store belong to the caller). */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#probe?.close();
    const subs = this.#subscriptions;
    this.#subscriptions = [];
    await Promise.allSettled(subs.map((s) => s.close()));
  }

  /**
   * Handles one validated message from the bus. An error while handling it is logged and counted,
   * never thrown: it must not stop the consumer, and one test's bad data must not stop the others.
   * Except a transient one (the store refused to keep a snapshot): thrown, the bus retries it.
   */
  handle(delivered: Delivered): void {
    try {
      this.#handle(delivered);
    } catch (err) {
      // Not stored yet (the store is full or locked): the bus delivers it again, unacknowledged.
      if (isTransient(err)) throw err;
      this.#book.counters.handler_errors++;
      this.#log.error("failed to handle a message; skipped", {
        kind: delivered.kind,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  #handle(delivered: Delivered): void {
    const now = this.#now();
    switch (delivered.kind) {
      case "register":
        return this.#liveness.register(delivered.message, delivered.old === true, now);
      case "heartbeat":
        return this.#liveness.heartbeat(delivered.message, now);
      case "metrics":
        return this.#book.ingest(delivered.message, delivered.text);
      case "test_config":
        return this.#mirror.config(delivered.message);
      case "trigger":
        return this.#mirror.trigger(delivered.message);
    }
  }

  /** The link to Kafka now, for `/healthz`. */
  get kafka(): LinkState {
    return this.#deps.bus.link();
  }

  /**
   * Checks liveness, idle drivers and stop timeouts (liveness.ts), then the book's and the
   * retention's upkeep; called by the timer, or by tests with a fake clock. Never throws: a
   * failure is logged and the next tick tries again.
   */
  tick(): void {
    try {
      this.#tick();
    } catch (err) {
      this.#book.counters.handler_errors++;
      this.#log.error("liveness check failed", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  #tick(): void {
    this.#liveness.sweep(this.#now());
    this.#book.upkeep();
    this.#retention.upkeep();
  }

  /** Creates a test and publishes its `test_config`. */
  createTest(params: TestParams): Promise<TestView> {
    return this.#commands.createTest(params);
  }

  /** Starts a created test on the chosen drivers (fixed from now on). */
  trigger(testId: string): Promise<TestView> {
    return this.#commands.trigger(testId);
  }

  /** Stops a created or running test; running drivers are told to STOP and report final. */
  stop(testId: string): Promise<TestView> {
    return this.#commands.stop(testId);
  }

  /**
   * Tells every driver, or those named, to finish and exit (`END`); returns who was told (every
   * alive driver, or the named ones).
   */
  endDrivers(named?: readonly string[]): Promise<string[]> {
    return this.#commands.endDrivers(named);
  }

  /** Deletes a settled test with its snapshots and results; NotFoundError, ConflictError. */
  deleteTest(testId: string): void {
    this.#commands.deleteTest(testId);
  }

  /** Every driver seen, sorted by node id. */
  drivers(): Driver[] {
    const now = this.#now();
    return this.registry.list().map((d) => ({
      ...d,
      last_heartbeat: new Date(d.last_heartbeat).toISOString(),
      first_seen: new Date(d.first_seen).toISOString(),
      heartbeat_age_ms: Math.max(0, now - d.last_heartbeat),
    }));
  }

  /** One test with its live or final results; throws NotFoundError. */
  getTest(testId: string): TestView {
    return this.#book.view(testId);
  }

  /** Every test, newest first, with overall results. */
  listTests(limit?: number): TestSummary[] {
    return this.#book.summaries(limit);
  }

  /** The per-second series of a test; throws NotFoundError. */
  timeseries(testId: string): TimeSeries {
    return this.#book.series(testId);
  }
}
