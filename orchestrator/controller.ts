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
import type { Delivered, MessageBus, Subscription } from "../shared/bus.ts";
import type { Logger } from "../shared/log.ts";
import type { MetricsMessage, TestConfigMessage } from "../shared/messages.ts";
import { TestAggregate } from "./aggregator.ts";
import { ConflictError, NotFoundError, UnavailableError } from "./errors.ts";
import { hasUnsettledDrivers, isBusy, type LifecycleEvent, transition } from "./lifecycle.ts";
import { createdLifecycle } from "./lifecycle.ts";
import { type DriverInfo, DriverRegistry } from "./registry.ts";
import type { Store, TestRecord } from "./store.ts";
import type { TimeSeries } from "./timeseries.ts";
import {
  isSettled,
  resultsOf,
  type TestResults,
  type TestSummary,
  testSummary,
  type TestView,
  testView,
} from "./test_view.ts";

/** What a user supplies to create a test (the test_config message less what the server adds). */
export type TestParams = Omit<TestConfigMessage, "test_id" | "timestamp">;

/** A driver as the API shows it. */
export interface DriverView extends Omit<DriverInfo, "last_heartbeat" | "first_seen"> {
  last_heartbeat: string;
  first_seen: string;
  /** Milliseconds since the last heartbeat, by the orchestrator's clock. */
  heartbeat_age_ms: number;
}

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

/** Counters for `/healthz`. */
export interface ControllerCounters {
  metrics_accepted: number;
  metrics_ignored: number;
  metrics_unknown_test: number;
  metrics_bad_histogram: number;
}

function defaultTestId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

/** The orchestrator's runtime controller. */
export class Controller {
  readonly registry: DriverRegistry;
  readonly counters: ControllerCounters = {
    metrics_accepted: 0,
    metrics_ignored: 0,
    metrics_unknown_test: 0,
    metrics_bad_histogram: 0,
  };
  #deps: ControllerDeps;
  #log: Logger;
  #now: () => number;
  /** Tests that are not settled yet, by id. */
  #open = new Map<string, TestRecord>();
  #aggregates = new Map<string, TestAggregate>();
  #subscriptions: Subscription[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(deps: ControllerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: "controller" });
    this.#now = deps.now ?? Date.now;
    this.registry = new DriverRegistry({
      heartbeatMs: deps.options.heartbeatMs,
      lostAfter: deps.options.lostAfter,
    });
  }

  /** Recovers open tests from the store, subscribes to the bus and starts the liveness timer. */
  async start(): Promise<void> {
    this.#recover();
    const { bus, options } = this.#deps;
    const onMessage = (d: Delivered) => this.handle(d);
    this.#subscriptions.push(
      await bus.subscribe({
        groupId: options.liveGroupId,
        kinds: ["register", "heartbeat"],
        fromBeginning: false,
        onMessage,
      }),
      await bus.subscribe({
        groupId: options.metricsGroupId,
        kinds: ["metrics"],
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

  #recover(): void {
    const now = this.#now();
    for (const record of this.#deps.store.openTests()) {
      this.#open.set(record.test_id, record);
      for (const [nodeId, progress] of Object.entries(record.lifecycle.drivers)) {
        if (progress === "running") this.registry.expect(nodeId, now);
      }
      const aggregate = this.#aggregate(record.test_id);
      for (const nodeId of aggregate.nodes()) {
        if (aggregate.latest(nodeId)?.final) {
          this.#apply(record, { type: "driver_final", node_id: nodeId });
        }
      }
      if (record.lifecycle.state === "running") {
        this.#log.info("resuming a test that was running before the restart", {
          test_id: record.test_id,
        });
      }
      this.#settleIfDone(record);
    }
  }

  /** Handles one validated message from the bus. */
  handle(delivered: Delivered): void {
    const now = this.#now();
    switch (delivered.kind) {
      case "register":
        return this.#revived(this.registry.register(delivered.message, now)?.node_id);
      case "heartbeat":
        return this.#revived(this.registry.heartbeat(delivered.message, now)?.node_id);
      case "metrics":
        return this.#onMetrics(delivered.message, now);
      case "test_config":
      case "trigger":
        return; // the orchestrator's own messages; it does not subscribe to them
    }
  }

  #revived(nodeId: string | undefined): void {
    if (nodeId === undefined) return;
    this.#log.info("driver is alive again", { node_id: nodeId });
    for (const record of [...this.#open.values()]) {
      this.#apply(record, { type: "driver_alive", node_id: nodeId });
    }
  }

  #onMetrics(message: MetricsMessage, now: number): void {
    const { store } = this.#deps;
    let record = this.#open.get(message.test_id);
    if (!record) {
      const stored = store.getTest(message.test_id);
      if (!stored) {
        this.counters.metrics_unknown_test++;
        this.#log.debug("metrics for an unknown test ignored", {
          test_id: message.test_id,
          node_id: message.node_id,
        });
        return;
      }
      // A settled test only changes for a report newer than every stored one.
      if (message.report_id <= store.lastReportId(message.test_id, message.node_id)) {
        this.counters.metrics_ignored++;
        return;
      }
      record = stored;
    }
    const aggregate = this.#aggregate(record.test_id);
    let accepted: boolean;
    try {
      accepted = aggregate.accept(message);
    } catch (err) {
      this.counters.metrics_bad_histogram++;
      this.#log.warn("metrics with an undecodable histogram ignored", {
        test_id: message.test_id,
        node_id: message.node_id,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    if (!accepted) {
      this.counters.metrics_ignored++;
      return;
    }
    this.counters.metrics_accepted++;
    store.addSnapshot(message, now);
    if (message.final) this.#apply(record, { type: "driver_final", node_id: message.node_id });
    this.#settleIfDone(record);
  }

  /** Checks liveness and stop timeouts; called by the timer, or by tests with a fake clock. */
  tick(): void {
    const now = this.#now();
    for (const change of this.registry.sweep(now)) {
      this.#log.warn("driver lost: no heartbeat", { node_id: change.node_id });
      for (const record of [...this.#open.values()]) {
        this.#apply(record, { type: "driver_lost", node_id: change.node_id });
      }
    }
    const drainMs = this.#deps.options.drainTimeoutMs ?? 10_000;
    for (const record of [...this.#open.values()]) {
      const { lifecycle } = record;
      if (lifecycle.state !== "stopped" || !hasUnsettledDrivers(lifecycle)) continue;
      if (now - (record.ended_at ?? now) < drainMs) continue;
      for (const [nodeId, progress] of Object.entries(lifecycle.drivers)) {
        if (progress !== "running") continue;
        this.#log.warn("no final metrics after STOP; counting the driver as lost", {
          test_id: record.test_id,
          node_id: nodeId,
        });
        this.#apply(record, { type: "driver_lost", node_id: nodeId });
      }
      this.#settleIfDone(record);
    }
    for (const record of [...this.#open.values()]) this.#settleIfDone(record);
  }

  /** Applies a lifecycle event to a test and saves it; returns the error of a refused event. */
  #apply(record: TestRecord, event: LifecycleEvent): string | undefined {
    const result = transition(record.test_id, record.lifecycle, event);
    if (!result.ok) return result.error;
    if (result.lifecycle === record.lifecycle) return undefined;
    const before = record.lifecycle.state;
    record.lifecycle = result.lifecycle;
    if (before !== record.lifecycle.state) {
      if (record.lifecycle.state !== "running") record.ended_at ??= this.#now();
      this.#log.info(`test ${record.lifecycle.state}`, {
        test_id: record.test_id,
        reason: record.lifecycle.reason,
      });
    }
    this.#deps.store.updateTest(record);
    return undefined;
  }

  /** Caches the results of a test that can no longer change and forgets its live state. */
  #settleIfDone(record: TestRecord): void {
    if (!isSettled(record)) return;
    const aggregate = this.#aggregate(record.test_id);
    this.#deps.store.saveResults(record.test_id, resultsOf(record, aggregate), aggregate.series());
    this.#open.delete(record.test_id);
    this.#aggregates.delete(record.test_id);
  }

  /** The aggregate of a test, rebuilt from the stored snapshots when not in memory. */
  #aggregate(testId: string): TestAggregate {
    let aggregate = this.#aggregates.get(testId);
    if (!aggregate) {
      aggregate = new TestAggregate(testId);
      for (const message of this.#deps.store.snapshots(testId)) {
        try {
          aggregate.accept(message);
        } catch {
          // Only snapshots that decoded once are stored; a failure here changes nothing.
        }
      }
      this.#aggregates.set(testId, aggregate);
    }
    return aggregate;
  }

  #record(testId: string): TestRecord {
    const record = this.#open.get(testId) ?? this.#deps.store.getTest(testId);
    if (!record) throw new NotFoundError(`No test with id "${testId}"`);
    return record;
  }

  async #publish(what: string, send: () => Promise<void>): Promise<void> {
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
    if (this.#open.has(testId) || this.#deps.store.getTest(testId)) {
      throw new ConflictError(`A test with id "${testId}" already exists`);
    }
    const config: TestConfigMessage = { ...params, test_id: testId, timestamp: now };
    await this.#publish(
      `create test "${testId}"`,
      () => this.#deps.bus.publish("test_config", config, testId),
    );
    const record: TestRecord = {
      test_id: testId,
      created_at: now,
      triggered_at: null,
      ended_at: null,
      config,
      lifecycle: createdLifecycle(),
    };
    this.#deps.store.insertTest(record);
    this.#open.set(testId, record);
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
    const record = this.#record(testId);
    if (record.lifecycle.state !== "created") {
      throw new ConflictError(`Cannot trigger test "${testId}": it is ${record.lifecycle.state}`);
    }
    const busy = [...this.#open.values()].find((r) => r !== record && isBusy(r.lifecycle));
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
    // Transition before publishing: a fast driver's final report may arrive before the publish
    // call returns, and it must find the test running.
    const error = this.#apply(record, { type: "trigger", drivers: chosen });
    if (error) throw new ConflictError(error);
    const now = this.#now();
    record.triggered_at = now;
    const aggregate = this.#aggregate(testId);
    for (const nodeId of chosen) {
      if (aggregate.latest(nodeId)?.final) {
        this.#apply(record, { type: "driver_final", node_id: nodeId });
      }
    }
    try {
      await this.#publish(
        `trigger test "${testId}"`,
        () =>
          this.#deps.bus.publish(
            "trigger",
            { trigger: "YES", test_id: testId, timestamp: now, drivers: chosen },
            testId,
          ),
      );
    } catch (err) {
      Object.assign(record, before);
      this.#deps.store.updateTest(record);
      throw err;
    }
    this.#deps.store.updateTest(record);
    this.#log.info("test triggered", { test_id: testId, drivers: chosen.join(",") });
    return this.getTest(testId);
  }

  /** Stops a created or running test; running drivers are told to STOP and report final. */
  async stop(testId: string): Promise<TestView> {
    const record = this.#record(testId);
    const wasRunning = record.lifecycle.state === "running";
    const error = this.#apply(record, { type: "stop" });
    if (error) throw new ConflictError(error);
    if (wasRunning) {
      const now = this.#now();
      await this.#publish(
        `stop test "${testId}"`,
        () =>
          this.#deps.bus.publish("trigger", { trigger: "STOP", test_id: testId, timestamp: now }),
      );
    }
    this.#settleIfDone(record);
    return this.getTest(testId);
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

  /** Every driver seen, sorted by node id. */
  drivers(): DriverView[] {
    const now = this.#now();
    return this.registry.list().map((d) => ({
      ...d,
      last_heartbeat: new Date(d.last_heartbeat).toISOString(),
      first_seen: new Date(d.first_seen).toISOString(),
      heartbeat_age_ms: Math.max(0, now - d.last_heartbeat),
    }));
  }

  #results(record: TestRecord): TestResults {
    if (!this.#open.has(record.test_id)) {
      const cached = this.#deps.store.getTest(record.test_id)?.results;
      if (cached) return cached as TestResults;
    }
    return resultsOf(record, this.#aggregate(record.test_id));
  }

  /** One test with its live or final results. */
  getTest(testId: string): TestView {
    const record = this.#record(testId);
    return testView(record, this.#results(record));
  }

  /** Every test, newest first, with overall results. */
  listTests(limit?: number): TestSummary[] {
    return this.#deps.store.listTests(limit).map((stored) => {
      const record = this.#open.get(stored.test_id) ?? stored;
      const overall = this.#open.has(stored.test_id)
        ? structuredClone(this.#aggregate(stored.test_id).overall())
        : (stored.results as TestResults | null)?.overall ?? resultsOf(record, undefined).overall;
      return testSummary(record, overall);
    });
  }

  /** The per-second series of a test. */
  timeseries(testId: string): TimeSeries & { test_id: string } {
    const record = this.#record(testId);
    if (!this.#open.has(testId)) {
      const cached = this.#deps.store.getTest(testId)?.series;
      if (cached) return { test_id: testId, ...(cached as TimeSeries) };
    }
    return { test_id: testId, ...this.#aggregate(record.test_id).series() };
  }
}
