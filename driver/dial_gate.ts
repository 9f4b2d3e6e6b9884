/**
 * A worker's dial gate: while its target refuses connections, the worker's connections do not
 * each dial it. Per-connection backoff alone still cost one refused dial per connection per
 * second, about 85 µs of CPU each: 2,000 connections kept two thirds of a core busy learning, two
 * thousand times a second, what one dial had already said.
 *
 * The gate is open until a dial fails fast (any kind but `timeout`); then it is shut, and while
 * it is shut only one probe dials per backoff pause (driver/backoff.ts: 10 ms doubling to 1 s,
 * counted in the gate's consecutive failed probes). Everything else that needs a new socket is
 * told not to dial and to fail with the error that shut the gate. A probe that connects opens
 * the gate (the owner is told, to wake connections resting meanwhile); one that fails fast
 * lengthens the pause. A timeout is not a spin, since the dial already waited `timeout_ms`, so
 * it never shuts the gate; a probe that timed out opens it, as the target no longer refuses.
 *
 * Pure: it reads no clock (callers pass `nowMs`) and sets no timer.
 */
import { connectBackoffMs } from "./backoff.ts";
import type { ErrorKind } from "./worker_protocol.ts";

/** What {@link DialGate.admit} allows. Dial: the gate is open. */
export const DIAL = 0;
/** Dial, as the gate's one probe; report its outcome like any other dial. */
export const PROBE = 1;
/** Do not dial: the request fails at once with {@link DialGate.error}. */
export const SHUT = 2;
/** One of {@link DIAL}, {@link PROBE}, {@link SHUT}. */
export type Admission = typeof DIAL | typeof PROBE | typeof SHUT;

/** One worker's gate in front of its dials; see the module comment. */
export class DialGate {
  /** Consecutive failed probes, counting the failure that shut the gate; 0 while open. */
  #failures = 0;
  /** No probe before this time (the caller's clock, ms). */
  #probeAt = 0;
  /** The connection whose dial is the probe in flight, if any. */
  #prober: object | null = null;
  #error: ErrorKind = "connect_refused";
  #onOpen: () => void;

  /** `onOpen` runs when a shut gate opens (a dial connected, or a probe timed out). */
  constructor(onOpen: () => void = () => {}) {
    this.#onOpen = onOpen;
  }

  /** True while the target is taken to refuse connections. */
  get shut(): boolean {
    return this.#failures > 0;
  }

  /** The kind of the failed dial that shut the gate, or of the latest failed probe. */
  get error(): ErrorKind {
    return this.#error;
  }

  /** When the next probe may dial; 0 while open, Infinity while a probe is in flight. */
  get probeAt(): number {
    if (this.#failures === 0) return 0;
    return this.#prober === null ? this.#probeAt : Infinity;
  }

  /**
   * May `who` (a connection) dial at `nowMs`? A shut gate whose pause is over makes `who` its
   * probe, and admits nobody else until that dial has ended.
   */
  admit(who: object, nowMs: number): Admission {
    if (this.#failures === 0) return DIAL;
    if (this.#prober !== null || nowMs < this.#probeAt) return SHUT;
    this.#prober = who;
    return PROBE;
  }

  /** A dial of `who` that was admitted connected. */
  connected(who: object): void {
    if (this.#prober === who) this.#prober = null;
    this.#open();
  }

  /** A dial of `who` that was admitted failed with `kind` at `nowMs`. */
  failed(who: object, kind: ErrorKind, nowMs: number): void {
    const probe = this.#prober === who;
    if (probe) this.#prober = null;
    if (kind === "timeout") {
      if (probe) this.#open();
      return;
    }
    // A dial that was admitted while the gate was open and fails after it shut tells nothing
    // new: only the failure that shuts it and the probes' failures lengthen the pause.
    if (!probe && this.#failures > 0) return;
    this.#failures++;
    this.#error = kind;
    this.#probeAt = nowMs + connectBackoffMs(this.#failures);
  }

  #open(): void {
    if (this.#failures === 0) return;
    this.#failures = 0;
    this.#prober = null;
    this.#onOpen();
  }
}
