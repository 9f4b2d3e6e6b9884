/**
 * What a driver node makes of the test_config and trigger topics: it keeps the configs meant for
 * it, starts a test when triggered (once per test), stops it on STOP and ends on END. Configs and
 * triggers travel on different topics, so Kafka does not order them: a trigger that overtakes
 * its config waits for it a while. What Kafka fills (configs, waiting triggers, tests run) is
 * bounded, newest kept.
 *
 * With a fleet key, a command that is unsigned or not signed with that key is refused and logged
 * (shared/command_signature.ts); so is a config that reuses a known test id for another config,
 * signed or not: a test, once configured, is the test that runs.
 */
import { trimOldest } from "../shared/bounded.ts";
import type { Delivered } from "../shared/bus.ts";
import { canonicalJson } from "../shared/canonical_json.ts";
import { type CommandKind, refusedCommand, withoutSignature } from "../shared/command_signature.ts";
import type { FleetKey } from "../shared/fleet_key.ts";
import type { Logger } from "../shared/log.ts";
import type { TestConfigMessage, TriggerMessage } from "../shared/messages.ts";
import { assertNever } from "./worker_protocol.ts";

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

/** The node behind the inbox: what it is doing, and what the triggers make it do. */
export interface TriggerTarget {
  /** The test being run now, if any: a trigger for another test is ignored meanwhile. */
  runningTestId(): string | undefined;
  /** True once the node is ending: no test starts any more. */
  ending(): boolean;
  /** Runs a test, never run on this node before, now. */
  run(testId: string, config: TestConfigMessage): void;
  /** Stops the test if it is the one running. */
  stop(testId: string): void;
  /** Finishes the node (END). */
  end(): void;
}

/** What the inbox needs. */
export interface TriggerInboxDeps {
  nodeId: string;
  logger: Logger;
  /** Epoch milliseconds, for how long a trigger has waited for its config. */
  now: () => number;
  node: TriggerTarget;
  /** With a key, only commands signed with it are obeyed; without, every valid one is. */
  fleetKey?: FleetKey;
}

/** Turns config and trigger messages into runs, stops and the end of a driver node. */
export class TriggerInbox {
  #deps: TriggerInboxDeps;
  #log: Logger;
  #configs = new Map<string, TestConfigMessage>();
  /** Triggers waiting for their config: when each arrived. */
  #pendingTriggers = new Map<string, number>();
  #done = new Set<string>();
  /** Commands refused so far (badly signed, or a reused test id), shown in each refusal's log. */
  #refused = 0;

  constructor(deps: TriggerInboxDeps) {
    this.#deps = deps;
    this.#log = deps.logger;
  }

  /** Takes one delivered message of the subscribed topics. */
  onMessage(delivered: Delivered): void {
    switch (delivered.kind) {
      case "test_config":
        if (this.#signed("test_config", delivered.message)) this.#onConfig(delivered.message);
        break;
      case "trigger":
        if (this.#signed("trigger", delivered.message)) {
          this.#onTrigger(delivered.message, delivered.old === true);
        }
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

  /** Whether a command may be obeyed; a refused one is logged with why, and counted. */
  #signed(kind: CommandKind, message: TestConfigMessage | TriggerMessage): boolean {
    const refused = refusedCommand(kind, message, this.#deps.fleetKey);
    if (refused) this.#refuse(refused.why, refused.fields);
    return refused === undefined;
  }

  #refuse(why: string, fields: Record<string, unknown>): void {
    this.#refused++;
    this.#log.warn(why, { ...fields, refused_total: this.#refused });
  }

  #onConfig(signed: TestConfigMessage): void {
    const config = withoutSignature(signed);
    if (!this.#forMe(config.drivers)) {
      this.#log.debug("config is for other drivers", { test_id: config.test_id });
      return;
    }
    const known = this.#configs.get(config.test_id);
    if (known !== undefined) {
      // Kafka may deliver a config twice; another config under a known id is refused.
      if (canonicalJson(known) !== canonicalJson(config)) {
        this.#refuse("refused a test_config: its test id has another config already", {
          test_id: config.test_id,
        });
      }
      return;
    }
    this.#configs.set(config.test_id, config);
    this.#log.info("test configured", { test_id: config.test_id, test_type: config.test_type });
    const waitingSince = this.#pendingTriggers.get(config.test_id);
    if (waitingSince !== undefined) {
      this.#pendingTriggers.delete(config.test_id);
      if (this.#deps.now() - waitingSince <= PENDING_TRIGGER_MS) this.#run(config.test_id);
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
        this.#deps.node.stop(trigger.test_id);
        break;
      case "END":
        if (this.#forMe(trigger.drivers)) this.#deps.node.end();
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
      this.#pendingTriggers.set(testId, this.#deps.now());
      return;
    }
    if (this.#done.has(testId)) {
      this.#log.info("ignoring a repeated trigger for a test already run", { test_id: testId });
      return;
    }
    const { node } = this.#deps;
    const running = node.runningTestId();
    if (running !== undefined || node.ending()) {
      this.#log.warn("ignoring a trigger: busy", { test_id: testId, running });
      return;
    }
    this.#done.add(testId);
    node.run(testId, config);
  }

  #forgetStaleTriggers(): void {
    const now = this.#deps.now();
    for (const [testId, since] of this.#pendingTriggers) {
      if (now - since > PENDING_TRIGGER_MS) {
        this.#pendingTriggers.delete(testId);
        this.#log.warn("ignoring a trigger for an unknown test", { test_id: testId });
      }
    }
  }
}
