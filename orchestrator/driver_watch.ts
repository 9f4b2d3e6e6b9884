/**
 * Watches the chosen drivers of open tests through their heartbeats, so that a driver which can
 * no longer finish its part is counted as lost within seconds instead of holding the test open:
 *
 * - a heartbeat from a different run of the driver (another `instance_id` than at the trigger)
 *   means the process restarted: the run that had the test is gone, lost at once;
 * - a driver that heartbeats *idle* (another test or none) after it was seen busy with the test
 *   is given {@link IDLE_GRACE_MS} for its final report to arrive (metrics and heartbeats travel
 *   on different topics, so the idle beat may overtake the report), then counted as lost;
 * - a driver that keeps heartbeating idle without ever starting the test gets
 *   {@link START_GRACE_MS}: its trigger consumer may be rejoining its group (after a broker
 *   outage that takes a Kafka session timeout, 10 s), so only a longer silence about the test
 *   means it will not run it;
 * - a driver that says it is leaving (END, a signal) sends nothing more: it published its final
 *   report before that beat, so it gets {@link IDLE_GRACE_MS} for the report to arrive, started
 *   or not, and is lost after that.
 *
 * Pure: it sees heartbeats, registrations and the time, and returns lifecycle events.
 */
import type { HeartbeatMessage } from "../shared/messages.ts";
import type { LifecycleEvent } from "./lifecycle.ts";
import type { TestRecord } from "./store.ts";

/** How long an idle driver has to deliver its final report before it counts as lost. */
export const IDLE_GRACE_MS = 3_000;
/** How long a chosen driver may heartbeat idle without ever starting the test. */
export const START_GRACE_MS = 15_000;

/** A lifecycle event for one test. */
export interface WatchEvent {
  testId: string;
  event: LifecycleEvent & { type: "driver_lost" };
}

const key = (testId: string, nodeId: string) => `${testId}\u0000${nodeId}`;

/** The idle clocks of the chosen drivers of open tests. */
export class DriverWatch {
  /** First idle heartbeat (orchestrator time) per test and driver while it is expected busy. */
  #idleSince = new Map<string, number>();
  /** The tests and drivers seen busy with the test at least once. */
  #started = new Set<string>();
  /** When a driver expected busy said it is leaving (orchestrator time). */
  #leftSince = new Map<string, number>();

  /**
   * A heartbeat; returns the drivers it shows to be lost. (Registrations are not watched: the
   * register topic is replayed from its start, and a new run heartbeats within a second anyway.)
   */
  seen(open: readonly TestRecord[], message: HeartbeatMessage, now: number): WatchEvent[] {
    const nodeId = message.node_id;
    const events: WatchEvent[] = [];
    for (const record of open) {
      const { lifecycle } = record;
      if (lifecycle.drivers[nodeId] !== "running") continue;
      const expected = lifecycle.instances?.[nodeId];
      const got = message.instance_id;
      if (expected !== undefined && got !== undefined && got !== expected) {
        this.#idleSince.delete(key(record.test_id, nodeId));
        this.#leftSince.delete(key(record.test_id, nodeId));
        events.push(lost(record.test_id, nodeId, `restarted: run ${got} is not ${expected}`));
        continue;
      }
      if (message.leaving && !this.#leftSince.has(key(record.test_id, nodeId))) {
        this.#leftSince.set(key(record.test_id, nodeId), now);
      }
      if (message.test_id === record.test_id) {
        this.#idleSince.delete(key(record.test_id, nodeId));
        this.#started.add(key(record.test_id, nodeId));
      } else if (!this.#idleSince.has(key(record.test_id, nodeId))) {
        this.#idleSince.set(key(record.test_id, nodeId), now);
      }
    }
    return events;
  }

  /**
   * Drivers idle for longer than the grace without a final report; forgets settled ones. Idle
   * time counts from `countFrom` at the earliest: until then the reports that may still be on
   * their way (after a start or a reconnection, Kafka holds a backlog) could not be read yet.
   */
  sweep(open: readonly TestRecord[], now: number, countFrom = -Infinity): WatchEvent[] {
    const events: WatchEvent[] = [];
    const live = new Set<string>();
    for (const record of open) {
      for (const [nodeId, progress] of Object.entries(record.lifecycle.drivers)) {
        const k = key(record.test_id, nodeId);
        const idleSince = this.#idleSince.get(k);
        if (progress !== "running" || idleSince === undefined) continue;
        const since = Math.max(idleSince, countFrom);
        live.add(k);
        const started = this.#started.has(k);
        const left = this.#leftSince.get(k);
        const expired = left !== undefined
          ? now - left >= IDLE_GRACE_MS
          : now - since >= (started ? IDLE_GRACE_MS : START_GRACE_MS);
        if (expired) {
          this.#idleSince.delete(k);
          this.#leftSince.delete(k);
          events.push(
            lost(
              record.test_id,
              nodeId,
              left !== undefined
                ? "left (END or a signal) without sending its final report"
                : started
                ? "went idle without sending its final report"
                : "never started the test",
            ),
          );
        }
      }
    }
    for (const k of this.#idleSince.keys()) if (!live.has(k)) this.#idleSince.delete(k);
    for (const k of this.#leftSince.keys()) if (!live.has(k)) this.#leftSince.delete(k);
    const chosen = new Set(openKeys(open));
    for (const k of this.#started) if (!chosen.has(k)) this.#started.delete(k);
    return events;
  }
}

function openKeys(open: readonly TestRecord[]): string[] {
  return open.flatMap((r) => Object.keys(r.lifecycle.drivers).map((n) => key(r.test_id, n)));
}

function lost(testId: string, nodeId: string, reason: string): WatchEvent {
  return { testId, event: { type: "driver_lost", node_id: nodeId, reason } };
}
