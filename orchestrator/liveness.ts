/**
 * Who is alive, judged from registrations and heartbeats, and what that means for the open tests:
 * a driver silent for `lostAfter` intervals is lost, a chosen driver that goes idle or leaves
 * without its final report is lost for its test (driver_watch.ts), a driver heard again counts
 * again, and a stopped test whose drivers send no final report gives up on them after the drain.
 *
 * Nothing is judged while Kafka is unreachable: no heartbeat or final report can arrive then, so
 * silence proves nothing; after the link is back, the windows count from its return. A silence
 * counts only up to the consumers' last answer (`heardAt`), so an outage not yet noticed cannot
 * make anyone lost either; and a stalled heartbeat topic, seen by the orchestrator's own probes
 * (heartbeat_channel.ts), is judged like an outage.
 */
import type { LinkState } from "../shared/bus.ts";
import type { Logger } from "../shared/log.ts";
import {
  type HeartbeatMessage,
  isProbe,
  type ProbeMessage,
  type RegisterMessage,
} from "../shared/messages.ts";
import type { ChannelProbe } from "./channel_probe.ts";
import { DriverWatch } from "./driver_watch.ts";
import { hasUnsettledDrivers } from "./lifecycle.ts";
import type { DriverRegistry } from "./registry.ts";
import type { TestBook } from "./test_book.ts";

/** What liveness reads and changes. */
export interface LivenessDeps {
  registry: DriverRegistry;
  book: TestBook;
  logger: Logger;
  /** The link to Kafka now. */
  link: () => LinkState;
  /** How long a stopped test waits for its drivers' final metrics before counting them lost. */
  drainTimeoutMs: number;
  /** After Kafka (or the heartbeat topic) is back, the extra time a driver has to be heard. */
  reconnectGraceMs: number;
}

/** Liveness of the drivers and its effect on the open tests. */
export class Liveness {
  #deps: LivenessDeps;
  #watch = new DriverWatch();
  #probe: ChannelProbe | undefined;
  /** When every subscription was running (epoch ms): idle time counts from here at the earliest. */
  #startedAt = -Infinity;

  constructor(deps: LivenessDeps) {
    this.#deps = deps;
  }

  /**
   * The subscriptions run from `now`; `probe`, if any, tells whether the heartbeat topic
   * delivers. The drivers of a recovered running test are expected: lost unless they heartbeat
   * in time.
   */
  started(now: number, probe?: ChannelProbe): void {
    this.#startedAt = now;
    this.#probe = probe;
  }

  /** Expects the running drivers of the recovered open tests, as if just heard. */
  expectRecovered(now: number): void {
    for (const record of this.#deps.book.open()) {
      for (const [nodeId, progress] of Object.entries(record.lifecycle.drivers)) {
        if (progress === "running") this.#deps.registry.expect(nodeId, now);
      }
    }
  }

  /** A registration (`old`: replayed from before this process listened). */
  register(message: RegisterMessage, old: boolean, now: number): void {
    this.#revived(this.#deps.registry.register(message, now, old)?.node_id);
  }

  /** A message of the heartbeat topic: a driver's beat or a probe. */
  heartbeat(message: HeartbeatMessage | ProbeMessage, now: number): void {
    if (isProbe(message)) return this.#probe?.seen(message);
    const { registry, book, logger } = this.#deps;
    const change = registry.heartbeat(message, now);
    for (const { testId, event } of this.#watch.seen(book.open(), message, now)) {
      logger.warn("driver lost for a test", { test_id: testId, ...event });
      book.applyTo(testId, event);
    }
    if (change?.status === "left") {
      logger.info("driver left", { node_id: change.node_id });
      return;
    }
    this.#revived(change?.node_id);
  }

  /** A lost driver is back: the open tests that expect this run of it count on it again. */
  #revived(nodeId: string | undefined): void {
    if (nodeId === undefined) return;
    const { registry, book, logger } = this.#deps;
    logger.info("driver is alive again", { node_id: nodeId });
    const run = registry.get(nodeId)?.instance_id ?? undefined;
    for (const record of book.open()) {
      const expected = record.lifecycle.instances?.[nodeId];
      if (expected !== undefined && run !== undefined && expected !== run) continue;
      book.applyTo(record.test_id, { type: "driver_alive", node_id: nodeId });
    }
  }

  /** Judges silences, idle drivers and stop drains at `now`. */
  sweep(now: number): void {
    const { registry, book, logger } = this.#deps;
    const link = this.#deps.link();
    if (!link.connected) return;
    const probe = this.#probe;
    const at = Math.min(now, link.heardAt, probe ? probe.evidenceAt(now) : now);
    const heardSince = Math.max(link.since, probe?.since ?? -Infinity) +
      this.#deps.reconnectGraceMs;
    for (const change of registry.sweep(at, heardSince)) {
      logger.warn("driver lost: no heartbeat", { node_id: change.node_id });
      book.applyToOpen({ type: "driver_lost", node_id: change.node_id, reason: "no heartbeat" });
    }
    // An idle beat read while the metrics consumer was still joining its group (after a
    // restart it may wait out the old member's session) or before the link came back says
    // nothing about final reports still waiting in Kafka: idle time counts from then.
    const idleFrom = Math.max(heardSince, this.#startedAt);
    for (const { testId, event } of this.#watch.sweep(book.open(), at, idleFrom)) {
      logger.warn("driver lost for a test", { test_id: testId, ...event });
      book.applyTo(testId, event);
    }
    this.#drain(at, heardSince);
  }

  /** A stopped test whose drivers sent no final report for the drain time counts them lost. */
  #drain(at: number, heardSince: number): void {
    const { book, logger } = this.#deps;
    for (const record of book.open()) {
      const { lifecycle } = record;
      if (lifecycle.state !== "stopped" || !hasUnsettledDrivers(lifecycle)) continue;
      if (at - Math.max(record.ended_at ?? at, heardSince) < this.#deps.drainTimeoutMs) continue;
      for (const [nodeId, progress] of Object.entries(lifecycle.drivers)) {
        if (progress !== "running") continue;
        logger.warn("no final metrics after STOP; counting the driver as lost", {
          test_id: record.test_id,
          node_id: nodeId,
        });
        book.apply(record, {
          type: "driver_lost",
          node_id: nodeId,
          reason: "no final report after STOP",
        });
      }
      book.settleIfDone(record);
    }
  }
}
