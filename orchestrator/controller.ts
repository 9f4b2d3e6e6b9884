/**
 * The runtime controller: consumes `register`, `heartbeat` and `metrics`, keeps the driver
 * registry and the tests' aggregates, and carries out the API's commands by publishing
 * `test_config` and `trigger`. All I/O goes through the injected bus, store and clock.
 *
 * One test runs at a time: a trigger is refused while another test runs, or while a stopped
 * test's drivers are still sending their final metrics (they would otherwise be asked to run two
 * tests at once).
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
import type { Logger } from "../shared/log.ts";
import type { TestConfigMessage } from "../shared/messages.ts";
import { ConflictError, UnavailableError } from "./errors.ts";
import { createdLifecycle, hasUnsettledDrivers, isBusy, type LifecycleEvent } from "./lifecycle.ts";
import { DriverWatch } from "./driver_watch.ts";
import { DriverRegistry } from "./registry.ts";
import { Retention, type RetentionPolicy } from "./retention.ts";
import type { Store, TestRecord } from "./store.ts";
import { type MetricsCounters, TestBook } from "./test_book.ts";
import { CommandMirror, startTest } from "./command_mirror.ts";

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
}

/** What the controller is built from. */
export interface ControllerDeps {
  bus: MessageBus;
  store: Store;
  logger: Logger;
  options: ControllerOptions;
  now?: () => number;
  newTestId?: () => string;
}

function defaultTestId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

/** The orchestrator's runtime controller. */
export class Controller {
  readonly registry: DriverRegistry;
  #deps: ControllerDeps;
  #log: Logger;
  #now: () => number;
  #book: TestBook;
  #watch = new DriverWatch();
  #retention: Retention;
  #subscriptions: Subscription[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #mirror: CommandMirror;
  /** Tests being created here: their configs, read back from Kafka, are this process's own. */
  #creating = new Set<string>();

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
      creating: this.#creating,
    });
  }

  /** What became of the metrics messages so far. */
  get counters(): MetricsCounters {
    return this.#book.counters;
  }

  /**
   * Recovers open tests from the store, subscribes to the bus and starts the liveness timer.
   * The drivers of a recovered running test are expected: lost unless they heartbeat in time.
   */
  async start(): Promise<void> {
    const now = this.#now();
    for (const record of this.#book.recover()) {
      for (const [nodeId, progress] of Object.entries(record.lifecycle.drivers)) {
        if (progress === "running") this.registry.expect(nodeId, now);
      }
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
        onMessage,
      }),
      // The cluster's commands too, whoever published them (command_mirror.ts).
      await bus.subscribe({
        groupId: options.metricsGroupId,
        kinds: ["metrics", "test_config", "trigger"],
        fromBeginning: false,
        onMessage,
      }),
    );
    const sweepMs = options.sweepMs ?? 100;
    if (sweepMs > 0) this.#timer = setInterval(() => this.tick(), sweepMs);
  }

  /** Stops the timer and the subscriptions (the bus and store belong to the caller). */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
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
        return this.#revived(
          this.registry.register(delivered.message, now, delivered.old === true)?.node_id,
        );
      case "heartbeat": {
        const change = this.registry.heartbeat(delivered.message, now);
        for (
          const { testId, event } of this.#watch.seen(this.#book.open(), delivered.message, now)
        ) {
          this.#log.warn("driver lost for a test", { test_id: testId, ...event });
          this.#book.applyTo(testId, event);
        }
        return this.#revived(change?.node_id);
      }
      case "metrics":
        return this.#book.ingest(delivered.message);
      case "test_config":
        return this.#mirror.config(delivered.message);
      case "trigger":
        return this.#mirror.trigger(delivered.message);
    }
  }

  /** A lost driver is back: the open tests that expect this run of it count on it again. */
  #revived(nodeId: string | undefined): void {
    if (nodeId === undefined) return;
    this.#log.info("driver is alive again", { node_id: nodeId });
    const run = this.registry.get(nodeId)?.instance_id ?? undefined;
    for (const record of this.#book.open()) {
      const expected = record.lifecycle.instances?.[nodeId];
      if (expected !== undefined && run !== undefined && expected !== run) continue;
      this.#book.applyTo(record.test_id, { type: "driver_alive", node_id: nodeId });
    }
  }

  /** The link to Kafka now, for `/healthz`. */
  get kafka(): LinkState {
    return this.#deps.bus.link();
  }

  /**
   * Checks liveness, idle drivers and stop timeouts; called by the timer, or by tests with a fake
   * clock. Never throws: a failure is logged and the next tick tries again. Nothing is judged
   * while Kafka is unreachable: no heartbeat or final report can arrive then, so silence proves
   * nothing; after the link is back, the windows count from its return. And a silence counts only
   * up to the consumers' last answer (`heardAt`), so an outage not yet noticed cannot make anyone
   * lost either.
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
    const now = this.#now();
    const link = this.#deps.bus.link();
    if (!link.connected) return;
    const at = Math.min(now, link.heardAt);
    const heardSince = link.since + (this.#deps.options.reconnectGraceMs ?? 2_000);
    for (const change of this.registry.sweep(at, heardSince)) {
      this.#log.warn("driver lost: no heartbeat", { node_id: change.node_id });
      this.#book.applyToOpen({
        type: "driver_lost",
        node_id: change.node_id,
        reason: "no heartbeat",
      });
    }
    for (const { testId, event } of this.#watch.sweep(this.#book.open(), at)) {
      this.#log.warn("driver lost for a test", { test_id: testId, ...event });
      this.#book.applyTo(testId, event);
    }
    const drainMs = this.#deps.options.drainTimeoutMs ?? 10_000;
    for (const record of this.#book.open()) {
      const { lifecycle } = record;
      if (lifecycle.state !== "stopped" || !hasUnsettledDrivers(lifecycle)) continue;
      if (at - Math.max(record.ended_at ?? at, heardSince) < drainMs) continue;
      for (const [nodeId, progress] of Object.entries(lifecycle.drivers)) {
        if (progress !== "running") continue;
        this.#log.warn("no final metrics after STOP; counting the driver as lost", {
          test_id: record.test_id,
          node_id: nodeId,
        });
        this.#book.apply(record, {
          type: "driver_lost",
          node_id: nodeId,
          reason: "no final report after STOP",
        });
      }
      this.#book.settleIfDone(record);
    }
    this.#book.upkeep();
    this.#retention.upkeep();
  }

  async #publish(what: string, send: () => Promise<void>): Promise<void> {
    const link = this.#deps.bus.link();
    if (!link.connected) {
      // kafkajs would retry for about a minute before failing; say so now instead.
      const since = new Date(link.since).toISOString();
      throw new UnavailableError(`Cannot ${what}: Kafka is unreachable (last heard ${since})`);
    }
    try {
      await send();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new UnavailableError(`Cannot ${what}: publishing to Kafka failed (${detail})`, {
        cause: err,
      });
    }
  }

  /** Creates a test and publishes its `test_config`. */
  async createTest(params: TestParams): Promise<TestView> {
    const now = this.#now();
    const testId = this.#deps.newTestId?.() ?? defaultTestId(now);
    const config: TestConfigMessage = { ...params, test_id: testId, timestamp: now };
    this.#creating.add(testId);
    try {
      await this.#publish(
        `create test "${testId}"`,
        () => this.#deps.bus.publish("test_config", config, testId),
      );
      this.#book.add({
        test_id: testId,
        created_at: now,
        triggered_at: null,
        ended_at: null,
        config,
        lifecycle: createdLifecycle(),
      });
    } catch (err) {
      // A taken id is a conflict; a store that refused (StorageError, 503) stays what it is.
      if (!(err instanceof RangeError)) throw err;
      throw new ConflictError(err.message);
    } finally {
      this.#creating.delete(testId);
    }
    this.#log.info("test created", { test_id: testId, test_type: config.test_type });
    return this.getTest(testId);
  }

  #chooseDrivers(record: TestRecord): string[] {
    const alive = this.registry.alive();
    const wanted = record.config.drivers?.length ? [...new Set(record.config.drivers)] : alive;
    const prefix = `Cannot trigger test "${record.test_id}"`;
    if (wanted.length === 0) throw new ConflictError(`${prefix}: no driver is alive`);
    const missing = wanted.filter((id) => !alive.includes(id)).map((id) =>
      `${id} (${this.registry.get(id)?.status ?? "never seen"})`
    );
    if (missing.length > 0) {
      throw new ConflictError(`${prefix}: these drivers are not alive: ${missing.join(", ")}`);
    }
    return wanted;
  }

  /** Starts a created test on the chosen drivers (fixed from now on). */
  async trigger(testId: string): Promise<TestView> {
    const record = this.#book.get(testId);
    if (record.lifecycle.state !== "created") {
      throw new ConflictError(`Cannot trigger test "${testId}": it is ${record.lifecycle.state}`);
    }
    const busy = this.#book.open().find((r) => r !== record && isBusy(r.lifecycle));
    if (busy) {
      const why = busy.lifecycle.state === "running"
        ? "is running"
        : "was stopped and its drivers are still sending their final metrics";
      throw new ConflictError(
        `Cannot trigger test "${testId}": test "${busy.test_id}" ${why}; one test runs at a time`,
      );
    }
    const chosen = this.#chooseDrivers(record);
    const before = { lifecycle: record.lifecycle, triggered_at: record.triggered_at };
    const now = this.#now();
    // Transition before publishing: a fast driver's final report may arrive before the publish
    // call returns, and it must find the test running.
    const instances: Record<string, string> = {};
    for (const nodeId of chosen) {
      const run = this.registry.get(nodeId)?.instance_id;
      if (run) instances[nodeId] = run;
    }
    let error: string | undefined;
    try {
      error = startTest(this.#book, record, { type: "trigger", drivers: chosen, instances }, now);
    } catch (err) {
      Object.assign(record, before);
      throw err;
    }
    if (error) throw new ConflictError(error);
    try {
      await this.#publish(
        `trigger test "${testId}"`,
        () =>
          this.#deps.bus.publish(
            "trigger",
            { trigger: "YES", test_id: testId, timestamp: now, drivers: chosen, instances },
            testId,
          ),
      );
    } catch (err) {
      Object.assign(record, before);
      this.#book.save(record);
      throw err;
    }
    this.#log.info("test triggered", { test_id: testId, drivers: chosen.join(",") });
    this.#book.settleIfDone(record);
    return this.getTest(testId);
  }

  /**
   * Stops a created or running test; running drivers are told to STOP and report final. The STOP
   * goes out for a created test too: a standby orchestrator learns of the stop from it.
   */
  async stop(testId: string): Promise<TestView> {
    const record = this.#book.get(testId);
    const before = { lifecycle: record.lifecycle, ended_at: record.ended_at };
    const error = this.#unlessRefused(record, before, { type: "stop" });
    if (error) throw new ConflictError(error);
    const now = this.#now();
    try {
      await this.#publish(
        `stop test "${testId}"`,
        () =>
          this.#deps.bus.publish("trigger", { trigger: "STOP", test_id: testId, timestamp: now }),
      );
    } catch (err) {
      // Nobody was told: the test is as it was.
      Object.assign(record, before);
      this.#book.save(record);
      throw err;
    }
    this.#book.settleIfDone(record);
    return this.getTest(testId);
  }

  /** A command's transition; when the store refuses it, it did not happen (`before` again). */
  #unlessRefused(
    record: TestRecord,
    before: Partial<TestRecord>,
    event: LifecycleEvent,
  ): string | undefined {
    try {
      return this.#book.apply(record, event);
    } catch (err) {
      Object.assign(record, before);
      throw err;
    }
  }

  /** Tells every driver to finish and exit (`END`); returns the drivers that were alive. */
  async endDrivers(): Promise<string[]> {
    const alive = this.registry.alive();
    await this.#publish(
      "end the drivers",
      () => this.#deps.bus.publish("trigger", { trigger: "END", timestamp: this.#now() }),
    );
    this.#log.info("END sent to every driver", { alive: alive.join(",") });
    return alive;
  }

  /** Deletes a settled test with its snapshots and results; NotFoundError, ConflictError. */
  deleteTest(testId: string): void {
    this.#retention.remove(testId);
    this.#log.info("test deleted", { test_id: testId });
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
