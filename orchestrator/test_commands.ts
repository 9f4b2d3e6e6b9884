/**
 * The API's commands, carried out: create, trigger, stop and delete tests, and END the drivers,
 * by publishing `test_config` and `trigger`. Each command changes the test book first and undoes
 * the change when the publish fails, so a test is never shown in a state its drivers were not
 * told of.
 *
 * One test runs at a time: a trigger is refused while another test runs, or while a stopped
 * test's drivers are still sending their final metrics (they would otherwise be asked to run two
 * tests at once).
 */
import type { TestParams, TestView } from "../shared/api.ts";
import type { MessageBus } from "../shared/bus.ts";
import { type CommandKind, signIfKeyed } from "../shared/command_signature.ts";
import type { FleetKey } from "../shared/fleet_key.ts";
import type { Logger } from "../shared/log.ts";
import type { InputOf, TestConfigMessage } from "../shared/messages.ts";
import { startTest } from "./command_mirror.ts";
import { ConflictError, NotFoundError, UnavailableError } from "./errors.ts";
import { createdLifecycle, isBusy, type LifecycleEvent } from "./lifecycle.ts";
import type { DriverRegistry } from "./registry.ts";
import type { Retention } from "./retention.ts";
import type { TestRecord } from "./store.ts";
import type { TestBook } from "./test_book.ts";

/** What the commands act on. */
export interface TestCommandsDeps {
  bus: MessageBus;
  book: TestBook;
  registry: DriverRegistry;
  retention: Retention;
  logger: Logger;
  now: () => number;
  newTestId?: () => string;
  /** With a key, every test_config and trigger goes out signed with it. */
  fleetKey?: FleetKey;
}

function defaultTestId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

/** The commands of the REST API. */
export class TestCommands {
  #deps: TestCommandsDeps;
  #log: Logger;

  constructor(deps: TestCommandsDeps) {
    this.#deps = deps;
    this.#log = deps.logger;
  }

  /** Publishes a command, signed when there is a fleet key. */
  #command<K extends CommandKind>(kind: K, message: InputOf[K], key?: string): Promise<void> {
    return this.#deps.bus.publish(kind, signIfKeyed(kind, message, this.#deps.fleetKey), key);
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
    const now = this.#deps.now();
    const testId = this.#deps.newTestId?.() ?? defaultTestId(now);
    const config: TestConfigMessage = { ...params, test_id: testId, timestamp: now };
    // Stored before it is published: a store that refuses (503) leaves nothing on Kafka, and the
    // config read back from Kafka finds its test (command_mirror.ts).
    try {
      this.#deps.book.add({
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
    }
    try {
      await this.#publish(
        `create test "${testId}"`,
        () => this.#command("test_config", config, testId),
      );
    } catch (err) {
      this.#deps.book.discard(testId);
      throw err;
    }
    this.#log.info("test created", { test_id: testId, test_type: config.test_type });
    return this.#deps.book.view(testId);
  }

  #chooseDrivers(record: TestRecord): string[] {
    const alive = this.#deps.registry.alive();
    const wanted = record.config.drivers?.length ? [...new Set(record.config.drivers)] : alive;
    const prefix = `Cannot trigger test "${record.test_id}"`;
    if (wanted.length === 0) throw new ConflictError(`${prefix}: no driver is alive`);
    const missing = wanted.filter((id) => !alive.includes(id)).map((id) =>
      `${id} (${this.#deps.registry.get(id)?.status ?? "never seen"})`
    );
    if (missing.length > 0) {
      throw new ConflictError(`${prefix}: these drivers are not alive: ${missing.join(", ")}`);
    }
    return wanted;
  }

  /** Starts a created test on the chosen drivers (fixed from now on). */
  async trigger(testId: string): Promise<TestView> {
    const record = this.#deps.book.get(testId);
    if (record.lifecycle.state !== "created") {
      throw new ConflictError(`Cannot trigger test "${testId}": it is ${record.lifecycle.state}`);
    }
    const busy = this.#deps.book.open().find((r) => r !== record && isBusy(r.lifecycle));
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
    const now = this.#deps.now();
    // Transition before publishing: a fast driver's final report may arrive before the publish
    // call returns, and it must find the test running.
    const instances: Record<string, string> = {};
    for (const nodeId of chosen) {
      const run = this.#deps.registry.get(nodeId)?.instance_id;
      if (run) instances[nodeId] = run;
    }
    let error: string | undefined;
    try {
      error = startTest(
        this.#deps.book,
        record,
        { type: "trigger", drivers: chosen, instances },
        now,
      );
    } catch (err) {
      Object.assign(record, before);
      throw err;
    }
    if (error) throw new ConflictError(error);
    try {
      await this.#publish(
        `trigger test "${testId}"`,
        () =>
          this.#command(
            "trigger",
            { trigger: "YES", test_id: testId, timestamp: now, drivers: chosen, instances },
            testId,
          ),
      );
    } catch (err) {
      Object.assign(record, before);
      this.#deps.book.save(record);
      throw err;
    }
    this.#log.info("test triggered", { test_id: testId, drivers: chosen.join(",") });
    this.#deps.book.settleIfDone(record);
    return this.#deps.book.view(testId);
  }

  /**
   * Stops a created or running test; running drivers are told to STOP and report final. The STOP
   * goes out for a created test too: a standby orchestrator learns of the stop from it.
   */
  async stop(testId: string): Promise<TestView> {
    const record = this.#deps.book.get(testId);
    const before = { lifecycle: record.lifecycle, ended_at: record.ended_at };
    const error = this.#unlessRefused(record, before, { type: "stop" });
    if (error) throw new ConflictError(error);
    const now = this.#deps.now();
    try {
      await this.#publish(
        `stop test "${testId}"`,
        () => this.#command("trigger", { trigger: "STOP", test_id: testId, timestamp: now }),
      );
    } catch (err) {
      // Nobody was told: the test is as it was.
      Object.assign(record, before);
      this.#deps.book.save(record);
      throw err;
    }
    this.#deps.book.settleIfDone(record);
    return this.#deps.book.view(testId);
  }

  /** A command's transition; when the store refuses it, it did not happen (`before` again). */
  #unlessRefused(
    record: TestRecord,
    before: Partial<TestRecord>,
    event: LifecycleEvent,
  ): string | undefined {
    try {
      return this.#deps.book.apply(record, event);
    } catch (err) {
      Object.assign(record, before);
      throw err;
    }
  }

  /**
   * Tells every driver to finish and exit (`END`) and returns the drivers that were alive; or,
   * with `named`, only those (returned as named). A name never seen is a NotFoundError, one that
   * has left already a ConflictError, each naming every such driver. A lost driver is told too:
   * it may be frozen or cut off, and obeys when it hears Kafka again.
   */
  async endDrivers(named?: readonly string[]): Promise<string[]> {
    const { registry } = this.#deps;
    if (named === undefined) {
      const alive = registry.alive();
      await this.#publish(
        "end the drivers",
        () => this.#command("trigger", { trigger: "END", timestamp: this.#deps.now() }),
      );
      this.#log.info("END sent to every driver", { alive: alive.join(",") });
      return alive;
    }
    const drivers = [...new Set(named)];
    const unknown = drivers.filter((id) => registry.get(id) === undefined);
    if (unknown.length > 0) {
      const known = registry.list().map((d) => `${d.node_id} (${d.status})`).join(", ");
      throw new NotFoundError(
        `Cannot end ${unknown.map((id) => `"${id}"`).join(", ")}: no such driver has been seen ` +
          `(known: ${known || "none"})`,
      );
    }
    const left = drivers.filter((id) => registry.get(id)?.status === "left");
    if (left.length > 0) {
      throw new ConflictError(
        `Cannot end ${left.map((id) => `"${id}"`).join(", ")}: already left (exited on END or ` +
          "a signal)",
      );
    }
    await this.#publish(
      `end driver(s) ${drivers.join(", ")}`,
      () => this.#command("trigger", { trigger: "END", timestamp: this.#deps.now(), drivers }),
    );
    this.#log.info("END sent to some drivers", { drivers: drivers.join(",") });
    return drivers;
  }

  /** Deletes a settled test with its snapshots and results; NotFoundError, ConflictError. */
  deleteTest(testId: string): void {
    this.#deps.retention.remove(testId);
    this.#log.info("test deleted", { test_id: testId });
  }
}
