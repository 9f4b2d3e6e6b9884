/**
 * Whether a process hears Kafka now, judged from its consumers. kafkajs has no "connected" flag:
 * while the broker is away its clients retry quietly for up to a minute before anything fails.
 * What does show at once is a consumer's poll loop: it fetches (the broker answers within
 * `maxWaitTimeInMs`, data or not), hands the batch to the handler, and fetches again. A consumer
 * that has neither fetched nor been handling a batch for `staleMs` is not hearing the broker.
 *
 * The link is up when every watched consumer hears: the orchestrator decides that a driver is
 * silent from its heartbeat consumer, so one deaf consumer is enough to doubt that silence.
 * Pure: every method takes the time, so tests need no timers.
 */
import type { LinkState } from "./bus.ts";

interface Listener {
  heardAt: number;
  /** Handling a batch: the next fetch waits for the handler, which is not the broker's fault. */
  busy: boolean;
  /** kafkajs reported a crash; it hears again with its next fetch. */
  crashed: boolean;
}

/** Tracks the consumers of one bus; {@link state} says whether they all hear Kafka. */
export class LinkMonitor {
  readonly staleMs: number;
  #listeners = new Map<string, Listener>();
  #state: Omit<LinkState, "heardAt">;

  /** `now` starts the first state: not connected (nothing heard yet) since now. */
  constructor(staleMs: number, now: number) {
    this.staleMs = staleMs;
    this.#state = { connected: false, since: now };
  }

  /**
   * Starts watching a consumer that has just joined its group (so it hears the broker now). A
   * consumer still joining is not watched yet: the others' link does not drop while it starts.
   */
  watch(id: string, now: number): void {
    this.#listeners.set(id, { heardAt: now, busy: false, crashed: false });
    this.state(now);
  }

  /** Stops watching a consumer (closed for good). */
  unwatch(id: string, now: number): void {
    this.#listeners.delete(id);
    this.state(now);
  }

  /** The consumer heard the broker: a fetch answered, a group joined, a batch handled. */
  heard(id: string, now: number): void {
    const listener = this.#listeners.get(id);
    if (listener === undefined) return;
    // Judge the gap before it closes: a silence nobody asked about still counts as one.
    this.state(now);
    listener.heardAt = now;
    listener.crashed = false;
    this.state(now);
  }

  /** The consumer started (true) or finished (false) handling a batch. */
  busy(id: string, busy: boolean, now: number): void {
    const listener = this.#listeners.get(id);
    if (listener === undefined) return;
    if (busy) this.state(now);
    listener.busy = busy;
    if (!busy) listener.heardAt = now;
    this.state(now);
  }

  /** kafkajs reported the consumer crashed: it does not hear until it fetches again. */
  crashed(id: string, now: number): void {
    const listener = this.#listeners.get(id);
    if (listener === undefined) return;
    listener.crashed = true;
    listener.busy = false;
    this.state(now);
  }

  #hears(listener: Listener, now: number): boolean {
    if (listener.crashed) return false;
    return listener.busy || now - listener.heardAt <= this.staleMs;
  }

  /**
   * The link at `now`. `since` is when it entered this state: when Kafka was last heard, while
   * disconnected; when the last deaf consumer heard it again, while connected. `heardAt` is the
   * oldest of the consumers' last answers (a consumer handling a batch counts as now).
   */
  state(now: number): LinkState {
    const listeners = [...this.#listeners.values()];
    const deaf = listeners.filter((l) => !this.#hears(l, now));
    const connected = this.#listeners.size > 0 && deaf.length === 0;
    if (connected !== this.#state.connected) {
      const lastHeard = Math.min(...deaf.map((l) => l.heardAt));
      this.#state = connected
        ? { connected, since: now }
        : { connected, since: Number.isFinite(lastHeard) ? Math.min(lastHeard, now) : now };
    }
    const answers = listeners.map((l) => l.busy && !l.crashed ? now : Math.min(l.heardAt, now));
    const heardAt = listeners.length > 0 ? Math.min(...answers) : this.#state.since;
    return { ...this.#state, heardAt };
  }
}
