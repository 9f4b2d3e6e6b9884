/**
 * The registry of drivers, built from `register` and `heartbeat` messages. Pure: every method
 * takes the current time, so liveness is decided by the caller's clock and tests need no timers.
 *
 * A driver is `lost` once it has missed `lostAfter` heartbeat intervals, `left` at once when its
 * last heartbeat says it is exiting (END, a signal), and `alive` again as soon as a heartbeat
 * returns. Drivers that were running before the orchestrator started are discovered from their
 * heartbeats alone (their IP stays unknown until they register again).
 */
import type { DriverStatus } from "../shared/api.ts";
import { trimOldest } from "../shared/bounded.ts";
import type { HeartbeatMessage, RegisterMessage } from "../shared/messages.ts";

/** A driver lost for this long is forgotten: an hour to notice it and look into what happened. */
export const FORGET_LOST_MS = 3_600_000;
/**
 * The most drivers (and registrations) kept: alive drivers always, and beyond that the lost ones
 * heard from most recently. Node ids come from Kafka, so whatever publishes there cannot grow the
 * registry without bound.
 */
export const MAX_DRIVERS = 1_000;

/** What the orchestrator knows about one driver. */
export interface DriverInfo {
  node_id: string;
  /** From `register`; null for a driver only seen through heartbeats. */
  node_ip: string | null;
  status: DriverStatus;
  /** Orchestrator time (epoch ms) the last register or heartbeat arrived. */
  last_heartbeat: number;
  /** Orchestrator time (epoch ms) the driver was first seen. */
  first_seen: number;
  /** The heartbeat interval the driver announces (or the configured default). */
  interval_ms: number;
  /** The test the driver says it runs, from its last heartbeat. */
  test_id: string | null;
  workers: number | null;
  version: string | null;
  /** The driver process's run, from its newest register or heartbeat (null if it sends none). */
  instance_id: string | null;
}

/** Registry settings. */
export interface RegistryOptions {
  /** Heartbeat interval assumed for drivers that do not announce theirs. */
  heartbeatMs: number;
  /** Missed intervals after which a driver is lost. */
  lostAfter: number;
}

/** A change of liveness found by {@link DriverRegistry.sweep} or a returning heartbeat. */
export interface StatusChange {
  node_id: string;
  status: DriverStatus;
}

/** The drivers seen so far. */
export class DriverRegistry {
  #drivers = new Map<string, DriverInfo>();
  /** The newest registration of every node, even of drivers not (or no longer) alive. */
  #registrations = new Map<string, RegisterMessage>();
  #options: RegistryOptions;

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  #touch(nodeId: string, now: number): { info: DriverInfo; revived: boolean } {
    const existing = this.#drivers.get(nodeId);
    if (existing) {
      const revived = existing.status !== "alive";
      existing.status = "alive";
      existing.last_heartbeat = Math.max(existing.last_heartbeat, now);
      return { info: existing, revived };
    }
    const known = this.#registrations.get(nodeId);
    const info: DriverInfo = {
      node_id: nodeId,
      node_ip: known?.node_IP ?? null,
      status: "alive",
      last_heartbeat: now,
      first_seen: now,
      interval_ms: this.#options.heartbeatMs,
      test_id: null,
      workers: known?.workers ?? null,
      version: known?.version ?? null,
      instance_id: known?.instance_id ?? null,
    };
    this.#drivers.set(nodeId, info);
    return { info, revived: false };
  }

  /**
   * Records a `register` message; returns a change when a lost driver came back. The register
   * topic is replayed from the start; a registration that was already there (`old`, by Kafka's
   * offsets) only tells us the node's address: it does not make the node alive (heartbeats do).
   */
  register(message: RegisterMessage, now: number, old = false): StatusChange | undefined {
    // Replayed registrations arrive oldest first: the newest one of a node wins.
    this.#registrations.set(message.node_id, message);
    if (old) {
      const existing = this.#drivers.get(message.node_id);
      if (existing && existing.node_ip === null) {
        existing.node_ip = message.node_IP;
        existing.workers ??= message.workers ?? null;
        existing.version ??= message.version ?? null;
      }
      return undefined;
    }
    const { info, revived } = this.#touch(message.node_id, now);
    info.node_ip = message.node_IP;
    info.workers = message.workers ?? info.workers;
    info.version = message.version ?? info.version;
    info.instance_id = message.instance_id ?? info.instance_id;
    // A fresh registration means a fresh process: whatever test the old one ran is gone.
    info.test_id = null;
    return revived ? { node_id: info.node_id, status: "alive" } : undefined;
  }

  /**
   * Records a heartbeat; returns a change when a lost or departed driver came back, or when it
   * left. A leaving beat from another run than the newest known one is the old process of a
   * driver restarted under the same name, arriving late: the new run stays alive.
   */
  heartbeat(message: HeartbeatMessage, now: number): StatusChange | undefined {
    if (message.leaving) return this.#leave(message, now);
    const { info, revived } = this.#touch(message.node_id, now);
    info.interval_ms = message.interval_ms ?? info.interval_ms;
    info.test_id = message.test_id ?? null;
    info.instance_id = message.instance_id ?? info.instance_id;
    return revived ? { node_id: info.node_id, status: "alive" } : undefined;
  }

  #leave(message: HeartbeatMessage, now: number): StatusChange | undefined {
    const known = this.#drivers.get(message.node_id);
    const run = message.instance_id;
    if (known?.instance_id && run && known.instance_id !== run && known.status === "alive") {
      return undefined;
    }
    const { info } = this.#touch(message.node_id, now);
    info.status = "left";
    info.test_id = null;
    info.instance_id = run ?? info.instance_id;
    return { node_id: info.node_id, status: "left" };
  }

  /**
   * Adds a driver that is expected but not yet heard from (after a restart, the drivers of a
   * test that was running), as if it had just been seen: it is lost unless it heartbeats within
   * the usual window.
   */
  expect(nodeId: string, now: number): void {
    if (!this.#drivers.has(nodeId)) this.#touch(nodeId, now);
  }

  /**
   * Marks drivers silent for `lostAfter` intervals as lost; returns who changed. Silence counts
   * only from `heardSince`, the time the caller's link to the broker was last (re)established:
   * heartbeats sent while it was down could not arrive, so after a reconnection every driver
   * gets a fresh window, as if it had just been heard. The caller does not sweep at all while
   * its link is down.
   */
  sweep(now: number, heardSince = -Infinity): StatusChange[] {
    const changes: StatusChange[] = [];
    for (const info of this.#drivers.values()) {
      const from = Math.max(info.last_heartbeat, heardSince);
      const deadline = from + this.#options.lostAfter * info.interval_ms;
      if (info.status === "alive" && now >= deadline) {
        info.status = "lost";
        changes.push({ node_id: info.node_id, status: "lost" });
      }
    }
    this.#forget(now);
    return changes;
  }

  /**
   * Forgets the drivers lost or left for {@link FORGET_LOST_MS}, and past {@link MAX_DRIVERS} the
   * ones of those silent longest, with their registrations.
   */
  #forget(now: number): void {
    let excess = this.#drivers.size - MAX_DRIVERS;
    const lost = [...this.#drivers.values()].filter((d) => d.status !== "alive");
    if (lost.length === 0 && this.#registrations.size <= MAX_DRIVERS) return;
    for (const d of lost.sort((a, b) => a.last_heartbeat - b.last_heartbeat)) {
      if (excess <= 0 && now - d.last_heartbeat < FORGET_LOST_MS) break;
      this.#drivers.delete(d.node_id);
      this.#registrations.delete(d.node_id);
      excess--;
    }
    trimOldest(this.#registrations, MAX_DRIVERS);
  }

  /** One driver, or undefined. */
  get(nodeId: string): DriverInfo | undefined {
    const info = this.#drivers.get(nodeId);
    return info ? { ...info } : undefined;
  }

  /** Every driver, sorted by node id. */
  list(): DriverInfo[] {
    return [...this.#drivers.values()].map((d) => ({ ...d })).sort((a, b) =>
      a.node_id < b.node_id ? -1 : a.node_id > b.node_id ? 1 : 0
    );
  }

  /** The node ids of the drivers currently alive, sorted. */
  alive(): string[] {
    return this.list().filter((d) => d.status === "alive").map((d) => d.node_id);
  }
}
