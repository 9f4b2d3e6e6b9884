/**
 * Every orchestrator reads the `test_config` and `trigger` topics and mirrors what they command
 * into its own store: a standby thereby knows the tests the active orchestrator created and runs,
 * with the same chosen drivers and runs, and takes over a running test as if it had started it.
 * The active orchestrator reads its own commands back; they change nothing (the test exists, or
 * it already left the state the command moves it out of).
 *
 * With a fleet key it mirrors only commands signed with it, as a driver obeys only those: a
 * forged config never appears as a test here, nor does a forged STOP stop one. A config that
 * reuses a known test id for another config is refused as well. Each refusal is logged and
 * counted (`commands_refused` in /healthz).
 *
 * Kafka orders messages within a partition only: a trigger can be read before the config it
 * follows (both in one fetch, or from two brokers). Such a trigger is kept, a bounded number of
 * them, and applied when its config arrives.
 */
import { canonicalJson } from "../shared/canonical_json.ts";
import { type CommandKind, refusedCommand, withoutSignature } from "../shared/command_signature.ts";
import type { FleetKey } from "../shared/fleet_key.ts";
import { trimOldest } from "../shared/bounded.ts";
import type { Logger } from "../shared/log.ts";
import type { TestConfigMessage, TriggerMessage } from "../shared/messages.ts";
import { CorruptDataError, NotFoundError } from "./errors.ts";
import { createdLifecycle, type LifecycleEvent } from "./lifecycle.ts";
import type { DriverRegistry } from "./registry.ts";
import type { TestRecord } from "./store.ts";
import type { TestBook } from "./test_book.ts";

/** What the mirror changes and reads. */
export interface CommandMirrorDeps {
  book: TestBook;
  registry: DriverRegistry;
  logger: Logger;
  now: () => number;
  /** With a key, only commands signed with it are mirrored. */
  fleetKey?: FleetKey;
}

/**
 * Starts a test on its chosen drivers: the trigger transition, then the final reports already
 * received (a fast driver's may arrive before the trigger is applied). Returns a refusal.
 */
export function startTest(
  book: TestBook,
  record: TestRecord,
  event: Extract<LifecycleEvent, { type: "trigger" }>,
  now: number,
): string | undefined {
  const triggeredAt = record.triggered_at;
  record.triggered_at = now;
  const refused = book.apply(record, event);
  if (refused) {
    record.triggered_at = triggeredAt;
    return refused;
  }
  let aggregate;
  try {
    aggregate = book.aggregate(record.test_id);
  } catch (err) {
    // Its stored reports cannot be read (it is shown corrupt): the trigger stands, as saved.
    if (err instanceof CorruptDataError) return undefined;
    throw err;
  }
  for (const nodeId of event.drivers) {
    if (aggregate.latest(nodeId)?.final) {
      book.apply(record, { type: "driver_final", node_id: nodeId });
    }
  }
  return undefined;
}

/** How many tests' early triggers are kept; anyone who can publish can invent test ids. */
export const MAX_EARLY_TRIGGERS = 256;

/** Mirrors commands read from Kafka into the test book. */
export class CommandMirror {
  #deps: CommandMirrorDeps;
  /** Triggers read before their test's config, in the order read, by test id. */
  #early = new Map<string, TriggerMessage[]>();

  constructor(deps: CommandMirrorDeps) {
    this.#deps = deps;
  }

  /** A test created on the cluster: added as created, unless it is known already. */
  config(signed: TestConfigMessage): void {
    if (!this.#signed("test_config", signed)) return;
    const { book, logger, now } = this.#deps;
    const message = withoutSignature(signed);
    const known = this.#find(message.test_id);
    if (known) {
      if (canonicalJson(known.config) !== canonicalJson(message)) {
        this.#refuse("refused a test_config: its test id has another config already", {
          test_id: message.test_id,
        });
      }
      return;
    }
    book.add({
      test_id: message.test_id,
      created_at: now(),
      triggered_at: null,
      ended_at: null,
      config: message,
      lifecycle: createdLifecycle(),
    });
    logger.info("test created on the cluster", { test_id: message.test_id });
    const early = this.#early.get(message.test_id) ?? [];
    this.#early.delete(message.test_id);
    for (const trigger of early) this.trigger(trigger);
  }

  /** A trigger: YES starts a created test on its drivers, STOP stops it; END changes no test. */
  trigger(message: TriggerMessage): void {
    if (!this.#signed("trigger", message) || message.trigger === "END") return;
    const record = this.#find(message.test_id);
    if (!record) return this.#keepEarly(message);
    const { book, logger, now } = this.#deps;
    if (message.trigger === "STOP") {
      const { state } = record.lifecycle;
      if (state !== "created" && state !== "running") return;
      book.apply(record, { type: "stop" });
      book.settleIfDone(record);
      return;
    }
    if (record.lifecycle.state !== "created") return;
    const drivers = message.drivers ?? record.config.drivers ?? [];
    const instances = message.instances ?? this.#instancesNow(drivers);
    const refused = startTest(book, record, { type: "trigger", drivers, instances }, now());
    if (refused) {
      logger.warn("a trigger read from Kafka was not applied", {
        test_id: record.test_id,
        error: refused,
      });
      return;
    }
    logger.info("test triggered on the cluster", {
      test_id: record.test_id,
      drivers: drivers.join(","),
    });
    book.settleIfDone(record);
  }

  /** A trigger for a test not known yet: applied when the test's config is read. */
  #keepEarly(message: Exclude<TriggerMessage, { trigger: "END" }>): void {
    const kept = this.#early.get(message.test_id) ?? [];
    this.#early.set(message.test_id, [...kept, message].slice(-4));
    trimOldest(this.#early, MAX_EARLY_TRIGGERS);
    this.#deps.logger.info("a trigger was read before its test's config; kept until it is", {
      test_id: message.test_id,
      trigger: message.trigger,
    });
  }

  /** Whether a command may be mirrored; a refused one is logged with why, and counted. */
  #signed(kind: CommandKind, message: TestConfigMessage | TriggerMessage): boolean {
    const refused = refusedCommand(kind, message, this.#deps.fleetKey);
    if (refused) this.#refuse(refused.why, refused.fields);
    return refused === undefined;
  }

  #refuse(why: string, fields: Record<string, unknown>): void {
    const counters = this.#deps.book.counters;
    counters.commands_refused++;
    this.#deps.logger.warn(why, { ...fields, refused_total: counters.commands_refused });
  }

  /** The runs the registry knows now, for a trigger that does not name them. */
  #instancesNow(drivers: readonly string[]): Record<string, string> {
    const instances: Record<string, string> = {};
    for (const nodeId of drivers) {
      const run = this.#deps.registry.get(nodeId)?.instance_id;
      if (run) instances[nodeId] = run;
    }
    return instances;
  }

  #find(testId: string): TestRecord | undefined {
    try {
      return this.#deps.book.get(testId);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err; // the store failed: the bus delivers the command again
    }
  }
}
