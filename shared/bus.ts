/**
 * The message bus interface that the orchestrator and drivers talk through. The real one is
 * Kafka ({@link ../shared/kafka.ts}); unit tests use {@link MemoryBus}, which still runs every
 * message through the real encode and parse functions.
 */
import { encodeMessage, type InputOf, type MessageOf, parseMessage } from "./messages.ts";
import { TOPIC_KINDS, type TopicKind } from "./topics.ts";

/**
 * One delivered, validated message, tagged with its topic kind. `old`: it was already on the topic
 * when the subscription started (replayed with `fromBeginning`), so it was sent before this
 * process was listening — decided by Kafka's offsets, not by comparing clocks across hosts.
 * `text`: the message as it came off the wire (see ParsedMessage in messages.ts).
 */
export type Delivered = {
  [K in TopicKind]: { kind: K; message: MessageOf[K]; text: string; old?: boolean };
}[TopicKind];

/** What to consume and what to do with it. */
export interface SubscribeOptions {
  /** Consumer group; give each process its own to have every process see every message. */
  groupId: string;
  kinds: readonly TopicKind[];
  /** Replay the topics from the start (true) or only see messages produced from now on. */
  fromBeginning: boolean;
  /**
   * With `fromBeginning` false: on a topic where the group has committed an offset, a partition
   * it has no offset for is read from its beginning instead of its end. A group commits only what
   * it consumed, so a partition that was empty whenever this group read it (one of the metrics
   * topic's, METRICS_PARTITIONS) would otherwise drop whatever arrived there while the process
   * was down. A new group still starts at the end. MemoryBus has one log and ignores this.
   */
  resumeEveryPartition?: boolean;
  /**
   * How long a message may wait on the broker for more to be fetched with it (default 0: each is
   * fetched as soon as it is there). Fetching a batch costs the consumer far less than fetching
   * its messages one by one, so a subscription that many senders feed steadily trades up to this
   * much latency for CPU. MemoryBus delivers at once regardless.
   */
  batchWaitMs?: number;
  /**
   * Acknowledge handled messages to the group this often (ms), for every partition at once,
   * instead of after every fetched batch: kafkajs commits each partition's share of a fetch with
   * a round trip of its own, which for the 6 partitions of `metrics` cost the orchestrator about
   * 0.35 ms of CPU of the 0.9 ms a report took (README "Performance"). A crash then delivers up to
   * this much again, so `onMessage` must take a message it has handled before as a duplicate.
   * MemoryBus ignores it.
   */
  commitEveryMs?: number;
  /**
   * Called once per valid message, in order per topic; a throw is logged and the message skipped,
   * except a transient one ({@link isTransient}): KafkaBus then calls again after a pause, and
   * does not acknowledge the message until a call succeeds (MemoryBus only records it).
   */
  onMessage: (delivered: Delivered) => void | Promise<void>;
}

/** A running subscription. */
export interface Subscription {
  close(): Promise<void>;
}

/** Counts of messages that did not validate and were skipped, per topic kind. */
export type InvalidCounts = Record<TopicKind, number>;

/**
 * Whether this process hears the broker now, and since when (epoch ms): while disconnected, the
 * time it was last heard; while connected, the time it was heard again.
 */
export interface LinkState {
  connected: boolean;
  since: number;
  /**
   * Up to when every consumer is known to have heard the broker (epoch ms; about now while
   * connected). A silence is evidence only up to here: a loss is noticed a moment late.
   */
  heardAt: number;
}

/** A typed publish/subscribe channel over the five surge topics. */
export interface MessageBus {
  publish<K extends TopicKind>(kind: K, message: InputOf[K], key?: string): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** How many invalid messages each topic has delivered to this process so far. */
  readonly invalid: InvalidCounts;
  /** The link to the broker now: while it is down, nothing published elsewhere can arrive. */
  link(): LinkState;
  close(): Promise<void>;
}

/**
 * True for a handler error that says "not now" rather than "never": it carries `transient: true`
 * (the orchestrator's StorageError does: its store is full or locked). Skipping such a message
 * would lose it, so the bus delivers it again later instead.
 */
export function isTransient(err: unknown): boolean {
  return typeof err === "object" && err !== null &&
    (err as { transient?: unknown }).transient === true;
}

/** A zeroed {@link InvalidCounts}. */
export function zeroInvalidCounts(): InvalidCounts {
  return Object.fromEntries(TOPIC_KINDS.map((k) => [k, 0])) as InvalidCounts;
}

/**
 * An in-process bus for unit tests. Messages are encoded to text and parsed back exactly as on
 * Kafka; raw text can be injected with {@link MemoryBus.publishRaw} to test poison messages.
 */
export class MemoryBus implements MessageBus {
  readonly invalid: InvalidCounts = zeroInvalidCounts();
  readonly log: { kind: TopicKind; raw: string }[] = [];
  #subscribers: { kinds: readonly TopicKind[]; onMessage: SubscribeOptions["onMessage"] }[] = [];
  /** Errors thrown by subscribers, kept so tests can assert there were none. */
  readonly handlerErrors: unknown[] = [];
  /** Connected since the epoch, heard always: it judges nobody unless a test says so. */
  #link: LinkState = { connected: true, since: 0, heardAt: Infinity };

  link(): LinkState {
    return { ...this.#link };
  }

  /**
   * Simulates losing (false) or regaining (true) the broker at `since`; delivery goes on.
   * `heardAt` defaults to always (connected) or `since` (disconnected: last heard then).
   */
  setLink(connected: boolean, since: number, heardAt = connected ? Infinity : since): void {
    this.#link = { connected, since, heardAt };
  }

  /** Like Kafka's: an invalid message rejects (never throws synchronously). */
  async publish<K extends TopicKind>(kind: K, message: InputOf[K]): Promise<void> {
    await this.publishRaw(kind, encodeMessage(kind, message));
  }

  /** Delivers raw text as if it had arrived on `kind`'s topic. */
  async publishRaw(kind: TopicKind, raw: string): Promise<void> {
    this.log.push({ kind, raw });
    for (const sub of this.#subscribers) {
      if (!sub.kinds.includes(kind)) continue;
      await this.#deliver(kind, raw, sub.onMessage);
    }
  }

  async #deliver(
    kind: TopicKind,
    raw: string,
    onMessage: SubscribeOptions["onMessage"],
    old = false,
  ) {
    const parsed = parseMessage(kind, raw);
    if (!parsed.ok) {
      this.invalid[kind]++;
      return;
    }
    try {
      await onMessage({ kind, message: parsed.value, text: parsed.text, old } as Delivered);
    } catch (err) {
      this.handlerErrors.push(err);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const sub = { kinds: options.kinds, onMessage: options.onMessage };
    if (options.fromBeginning) {
      for (const { kind, raw } of [...this.log]) {
        if (sub.kinds.includes(kind)) await this.#deliver(kind, raw, sub.onMessage, true);
      }
    }
    this.#subscribers.push(sub);
    return {
      close: () => {
        this.#subscribers = this.#subscribers.filter((s) => s !== sub);
        return Promise.resolve();
      },
    };
  }

  close(): Promise<void> {
    this.#subscribers = [];
    return Promise.resolve();
  }
}
