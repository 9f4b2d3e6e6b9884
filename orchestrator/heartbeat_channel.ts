/**
 * Whether the `heartbeat` topic delivers, judged end to end: the orchestrator publishes a probe
 * on it every {@link PROBE_MS} and reads it back among the drivers' heartbeats. While its probes
 * come back, a driver's silence is the driver's own. When none sent in the last
 * {@link STALL_MS} has come back, the topic stalls: its partition's leader died and Kafka has not
 * moved it yet (up to the broker session timeout, 9 s), or the orchestrator's own consumer is
 * stuck. Every driver then falls silent at once, and that silence proves nothing about any of
 * them: it counts only up to the stall's start, and once probes come back every driver gets a
 * fresh window from then, as after a reconnection. A stall of more than {@link MAX_PAUSE_MS} is
 * no longer waited out: drivers silent that long are judged on their silence.
 *
 * Only this process's own probes count, by number: their send times are its own clock's, and a
 * probe somebody else wrote under its id cannot make a driver lost (at worst it hides a stall).
 * Pure: the caller publishes the probes and hands in what it reads and the time.
 */
import { trimOldest } from "../shared/bounded.ts";
import type { ProbeMessage } from "../shared/messages.ts";

/** How often a probe is sent. */
export const PROBE_MS = 500;
/** No probe sent in this long has come back: the topic stalls (a round trip of up to STALL_MS - PROBE_MS is not one). */
export const STALL_MS = 2_000;
/** The longest stall during which silence is not counted. */
export const MAX_PAUSE_MS = 60_000;
/** Probes sent and not yet back that are remembered (a stall's worth, and more). */
const MAX_PENDING = 2 * MAX_PAUSE_MS / PROBE_MS;

/** The liveness of the heartbeat topic as one orchestrator sees it. */
export class HeartbeatChannel {
  readonly #id: string;
  #next = 0;
  /** Send times (epoch ms) of the probes on their way, by number. */
  #pending = new Map<number, number>();
  /** Send time of the newest probe that came back; the channel delivered everything before. */
  #backSentAt: number;
  /** When probes last came back after a stall (epoch ms). */
  #since = -Infinity;

  /** `id` names this process's probes; `now` counts as a probe's return (nothing stalls yet). */
  constructor(id: string, now: number) {
    this.#id = id;
    this.#backSentAt = now;
  }

  /** The next probe to publish, sent at `now`. */
  probe(now: number): ProbeMessage {
    const probe = this.#next++;
    this.#pending.set(probe, now);
    trimOldest(this.#pending, MAX_PENDING);
    return { heartbeat: "PROBE", orchestrator_id: this.#id, probe, timestamp: now };
  }

  /** A probe read from the topic at `now`; anybody else's, or one not on its way, is ignored. */
  seen(message: ProbeMessage, now: number): void {
    if (message.orchestrator_id !== this.#id) return;
    const sentAt = this.#pending.get(message.probe);
    if (sentAt === undefined) return;
    this.#pending.delete(message.probe);
    if (sentAt < this.#backSentAt) return;
    if (this.stalled(now)) this.#since = now;
    this.#backSentAt = sentAt;
  }

  /** Whether no probe sent in the last {@link STALL_MS} has come back. */
  stalled(now: number): boolean {
    return now - this.#backSentAt > STALL_MS;
  }

  /**
   * Up to when a driver's silence on the topic is evidence: `now`, or in a stall the time it was
   * noticed (the newest probe back plus {@link STALL_MS}), unless it has gone on for longer
   * than {@link MAX_PAUSE_MS}.
   */
  evidenceAt(now: number): number {
    if (!this.stalled(now)) return now;
    const noticed = this.#backSentAt + STALL_MS;
    return now - noticed > MAX_PAUSE_MS ? now : noticed;
  }

  /** When probes last came back after a stall (epoch ms; -Infinity if none has stalled). */
  get since(): number {
    return this.#since;
  }
}
