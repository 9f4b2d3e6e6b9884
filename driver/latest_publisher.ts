/**
 * Publishes a driver's cumulative metrics so that the newest state wins. Each metrics message
 * carries the whole state of the test so far, so when Kafka is slow there is no point queueing
 * every report behind the slow one: while one publish is in flight, a newer report replaces the
 * one waiting, and the orchestrator's view stays as fresh as the link allows. Order is kept
 * (report_id only increases on the wire) because at most one publish is in flight.
 *
 * With a retry policy a failed message is not lost: it is tried again after a backoff, unless a
 * newer one arrived meanwhile, which goes instead (it contains everything the failed one did).
 * So when Kafka comes back after an outage, the newest state, and in the end the final report,
 * gets out. Only {@link abandon} (the process is exiting) stops the retries.
 */
import { sleep as realSleep } from "../shared/async.ts";
import { backoffDelay, type BackoffPolicy } from "../shared/backoff.ts";

/** Sends one message; rejects when it could not be delivered. */
export type Publish<T> = (message: T) => Promise<void>;

/** Told about every failed publish; `failures` counts consecutive failures (1 = the first). */
export type OnPublishError<T> = (message: T, err: unknown, failures: number) => void;

/** How a {@link LatestPublisher} treats failures. */
export interface LatestPublisherOptions {
  /** Retry with this backoff until delivered; absent: a failed message is dropped. */
  retry?: BackoffPolicy;
  /** The wait between tries; it must return early when `signal` aborts. Tests pass a fake. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const GAVE_UP = Symbol("gave up");

/** A one-slot publisher: one message in flight, at most one waiting, the newest. */
export class LatestPublisher<T> {
  #publish: Publish<T>;
  #onError: OnPublishError<T>;
  #retry: BackoffPolicy | undefined;
  #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  #waiting: T | undefined;
  #inFlight: Promise<void> | undefined;
  #failures = 0;
  #abandon = new AbortController();
  #gaveUp: Promise<typeof GAVE_UP>;
  /** Messages replaced by a newer one before they were sent. */
  superseded = 0;

  constructor(
    publish: Publish<T>,
    onError: OnPublishError<T>,
    options: LatestPublisherOptions = {},
  ) {
    this.#publish = publish;
    this.#onError = onError;
    this.#retry = options.retry;
    this.#sleep = options.sleep ?? realSleep;
    this.#gaveUp = new Promise((resolve) => {
      this.#abandon.signal.addEventListener("abort", () => resolve(GAVE_UP), { once: true });
    });
  }

  /** Consecutive failed publishes so far (0 after a success). */
  get failures(): number {
    return this.#failures;
  }

  /** Whether {@link abandon} was called (or {@link settle} ran out of time). */
  get abandoned(): boolean {
    return this.#abandon.signal.aborted;
  }

  /**
   * Publishes `message` now, or after the publish in flight, unless a newer one comes first.
   * Ignored once abandoned.
   */
  offer(message: T): void {
    if (this.abandoned) return;
    if (this.#waiting !== undefined) this.superseded++;
    this.#waiting = message;
    if (this.#inFlight === undefined) this.#start();
  }

  /** Resolves once every offered message has been sent, superseded, dropped or abandoned. */
  async flush(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
  }

  /**
   * Drains in the background. The in-flight marker is cleared only after the drain has settled,
   * and a message offered in between starts a new drain, so none is left waiting unsent.
   */
  #start(): void {
    this.#inFlight = this.#drain().finally(() => {
      this.#inFlight = undefined;
      if (this.#waiting !== undefined) this.#start();
    });
  }

  /**
   * {@link flush}, bounded: resolves true once everything offered is out, or false after
   * `timeoutMs`, having abandoned what was still waiting or in flight.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    const timer = setTimeout(() => this.abandon(), timeoutMs);
    try {
      await this.flush();
    } finally {
      clearTimeout(timer);
    }
    return !this.abandoned;
  }

  /**
   * Stops for good: no more retries, the waiting message is dropped, and {@link flush} returns
   * without waiting for the publish in flight (which kafkajs may keep retrying for a while).
   */
  abandon(): void {
    this.#abandon.abort();
  }

  /** Publishes at once; a publish that throws instead of rejecting counts as a failed one. */
  #attempt(message: T): Promise<void> {
    try {
      return this.#publish(message);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #drain(): Promise<void> {
    const signal = this.#abandon.signal;
    while (this.#waiting !== undefined && !signal.aborted) {
      if (this.#retry !== undefined && this.#failures > 0) {
        // Newer reports may replace the waiting one during the pause; the newest goes.
        await this.#sleep(backoffDelay(this.#failures, this.#retry), signal);
        if (signal.aborted) break;
      }
      const message = this.#waiting;
      this.#waiting = undefined;
      const outcome = await Promise.race([
        this.#attempt(message).then(() => undefined, (err: unknown) => ({ err })),
        this.#gaveUp,
      ]);
      if (outcome === GAVE_UP) break;
      if (outcome === undefined) {
        this.#failures = 0;
        continue;
      }
      this.#failures++;
      this.#onError(message, outcome.err, this.#failures);
      if (this.#retry === undefined) continue;
      if (this.#waiting === undefined) this.#waiting = message; // try it again
      else this.superseded++; // a newer state goes instead
    }
    if (signal.aborted) this.#waiting = undefined;
  }
}
