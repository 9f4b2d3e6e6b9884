/**
 * Publishes a driver's cumulative metrics so that the newest state wins. Each metrics message
 * carries the whole state of the test so far, so when Kafka is slow there is no point queueing
 * every report behind the slow one: while one publish is in flight, a newer report replaces the
 * one waiting, and the orchestrator's view stays as fresh as the link allows. Order is kept
 * (report_id only increases on the wire) because at most one publish is in flight.
 */

/** Sends one message; rejects when it could not be delivered. */
export type Publish<T> = (message: T) => Promise<void>;

/** A one-slot publisher: one message in flight, at most one waiting, the newest. */
export class LatestPublisher<T> {
  #publish: Publish<T>;
  #onError: (message: T, err: unknown) => void;
  #waiting: T | undefined;
  #inFlight: Promise<void> | undefined;
  /** Messages replaced by a newer one before they were sent. */
  superseded = 0;

  constructor(publish: Publish<T>, onError: (message: T, err: unknown) => void) {
    this.#publish = publish;
    this.#onError = onError;
  }

  /** Publishes `message` now, or after the publish in flight, unless a newer one comes first. */
  offer(message: T): void {
    if (this.#waiting !== undefined) this.superseded++;
    this.#waiting = message;
    if (this.#inFlight === undefined) this.#start();
  }

  /** Resolves once every offered message has been sent or superseded. */
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

  async #drain(): Promise<void> {
    while (this.#waiting !== undefined) {
      const message = this.#waiting;
      this.#waiting = undefined;
      try {
        await this.#publish(message);
      } catch (err) {
        this.#onError(message, err);
      }
    }
  }
}
