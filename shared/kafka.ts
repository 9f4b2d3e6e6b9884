/**
 * The Kafka implementation of {@link MessageBus}, on kafkajs. It parses every message at the edge:
 * one that does not validate is logged, counted and skipped, never thrown out of `eachMessage`
 * (kafkajs would redeliver a poison message forever). A handler's transient failure is retried
 * in `eachMessage` with a growing pause (redelivery.ts), the offset uncommitted until it succeeds.
 */
import { Kafka, type KafkaMessage, logLevel, Partitioners, type Producer } from "kafkajs";
import type {
  InvalidCounts,
  LinkState,
  MessageBus,
  SubscribeOptions,
  Subscription,
} from "./bus.ts";
import { isTransient, zeroInvalidCounts } from "./bus.ts";
import { endOffsets } from "./end_offsets.ts";
import { ensureTopics } from "./ensure_topics.ts";
import type { KafkaClientAccess } from "./kafka_client_options.ts";
import { KafkaSubscription } from "./kafka_consumer.ts";
import { installKafkajsFixes } from "./kafkajs_fixes.ts";
import { LinkMonitor } from "./link_monitor.ts";
import { handleUntilDone } from "./redelivery.ts";
import { encodeMessage, type InputOf, parseMessage } from "./messages.ts";
import { kindOfTopic, type TopicKind, type TopicNames } from "./topics.ts";
import type { Logger } from "./log.ts";

const KAFKA_LEVELS: Record<number, "debug" | "info" | "warn" | "error"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** Options for {@link KafkaBus}. */
export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  topics: TopicNames;
  logger: Logger;
  /** TLS and SASL (shared/kafka_client_options.ts); none for a plaintext cluster. */
  access?: KafkaClientAccess;
  /** kafkajs's own log level; its INFO lines are chatty, so WARN by default. */
  kafkaLogLevel?: logLevel;
  /** Epoch milliseconds, for the link state. */
  now?: () => number;
}

/**
 * How long a consumer may stay without an answer from the broker before the link is down. An
 * idle consumer is answered every 100 ms; 3 s keeps a busy machine's pauses from flapping
 * /healthz. Liveness does not wait for it: the controller counts a silence only up to the
 * consumers' last answer (LinkState.heardAt).
 */
export const LINK_STALE_MS = 3_000;
/** A consumer's fetch returns after this long when there is nothing to read. */
const FETCH_WAIT_MS = 100;
/**
 * With SubscribeOptions.batchWaitMs, a fetch waits for this much data (or that long): a few
 * seconds of a busy fleet's reports, enough to share one fetch and one offset commit.
 */
const BATCH_BYTES = 64 * 1024;

/**
 * kafkajs's retries, for every client. Each wait doubles from 200 ms but never exceeds 2 s, so
 * once a broker is back every client notices within about 2 s (kafkajs's default cap of 30 s let
 * a publish sit for 20 s after a restart); 30 tries keep its patience with a broker that is not
 * there at all at about a minute, as before. A retry loop that gives up throws a non-retriable
 * error, so nested loops (a send that refreshes metadata) do not multiply this.
 */
const RETRY = { initialRetryTime: 200, maxRetryTime: 2_000, retries: 30 };

/** One message as kafkajs hands it over, with what {@link KafkaBus} needs to deliver it. */
interface Delivery {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat: () => Promise<void>;
  /** The next offset per `topic/partition` when the subscription started. */
  ends: Map<string, bigint>;
  stop: AbortSignal;
}

/** A {@link MessageBus} over a real Kafka cluster. */
export class KafkaBus implements MessageBus {
  readonly invalid: InvalidCounts = zeroInvalidCounts();
  readonly kafka: Kafka;
  #producer: Producer | undefined;
  #connecting: Promise<Producer> | undefined;
  #subscriptions = new Set<KafkaSubscription>();
  #stops = new Set<AbortController>();
  #options: KafkaBusOptions;
  #log: Logger;
  #now: () => number;
  #link: LinkMonitor;
  #linkTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: KafkaBusOptions) {
    installKafkajsFixes();
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#link = new LinkMonitor(LINK_STALE_MS, this.#now());
    this.#log = options.logger.child({ kafka: options.clientId });
    const kafkaLog = options.logger.child({ component: "kafkajs" });
    this.kafka = new Kafka({
      ...options.access,
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: options.kafkaLogLevel ?? logLevel.WARN,
      logCreator: () => ({ level, log }) => {
        // kafkajs repeats its own timestamp and logger name and adds a stack trace to every
        // connection error; a retrying client would print a screenful per second.
        const { message, timestamp: _t, logger: _l, stack: _s, ...extra } = log;
        // A group rebalancing is routine (an orchestrator joined or left the election), not an
        // error; kafkajs logs every heartbeat that learns of it as one.
        const routine = String(extra.error ?? "").includes("The group is rebalancing");
        kafkaLog[routine ? "debug" : KAFKA_LEVELS[level] ?? "info"](String(message), extra);
      },
      retry: RETRY,
    });
  }

  /** Creates the five topics if they do not exist (kafkajs would otherwise auto-create typos). */
  async ensureTopics(): Promise<void> {
    await ensureTopics(this.kafka.admin(), this.#options.topics);
  }

  #producerReady(): Promise<Producer> {
    if (this.#producer) return Promise.resolve(this.#producer);
    this.#connecting ??= (async () => {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await producer.connect();
      } catch (err) {
        this.#connecting = undefined;
        throw err;
      }
      this.#producer = producer;
      return producer;
    })();
    return this.#connecting;
  }

  async publish<K extends TopicKind>(kind: K, message: InputOf[K], key?: string): Promise<void> {
    const value = encodeMessage(kind, message);
    const producer = await this.#producerReady();
    // acks=all: the send succeeds once every in-sync replica has the message (at least
    // min.insync.replicas of them), so losing the partition's leader cannot lose it.
    await producer.send({
      topic: this.#options.topics[kind],
      acks: -1,
      messages: [{ key, value }],
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const topics = options.kinds.map((kind) => this.#options.topics[kind]);
    const resumeTopics = !options.fromBeginning && options.resumeEveryPartition
      ? await this.#committedTopics(options.groupId, topics)
      : [];
    // What is on the topics now is "old" to this subscription (see Delivered.old).
    const ends = options.fromBeginning || resumeTopics.length > 0
      ? await this.#endOffsets(topics)
      : new Map();
    // Aborted on close: it ends a message's redelivery (redelivery.ts).
    const stop = new AbortController();
    const subscription = new KafkaSubscription({
      create: () =>
        this.kafka.consumer({
          groupId: options.groupId,
          allowAutoTopicCreation: false,
          sessionTimeout: 10_000,
          heartbeatInterval: 1_000,
          ...(options.batchWaitMs
            ? { minBytes: BATCH_BYTES, maxWaitTimeInMs: options.batchWaitMs }
            : { maxWaitTimeInMs: FETCH_WAIT_MS }),
        }),
      topics,
      fromBeginning: options.fromBeginning,
      resumeTopics,
      eachMessage: ({ topic, partition, message, heartbeat }) =>
        this.#deliver(options, { topic, partition, message, heartbeat, ends, stop: stop.signal }),
      ...(options.commitEveryMs === undefined ? {} : { commitEveryMs: options.commitEveryMs }),
      link: this.#link,
      logger: this.#log,
      now: this.#now,
    });
    await subscription.start();
    this.#subscriptions.add(subscription);
    this.#stops.add(stop);
    this.#watchLink();
    return {
      close: async () => {
        stop.abort();
        this.#stops.delete(stop);
        this.#subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  /**
   * Parses one message at the edge and hands it on. An invalid message is counted and skipped; a
   * handler that fails for a transient reason (a full disk) gets the message again, unacknowledged,
   * until it succeeds or the subscription closes; any other failure is logged and skipped.
   */
  async #deliver(options: SubscribeOptions, d: Delivery): Promise<void> {
    const { topic, partition, message } = d;
    const kind = kindOfTopic(this.#options.topics, topic);
    if (kind === undefined) return;
    const parsed = parseMessage(kind, message.value, this.#now());
    if (!parsed.ok) {
      this.invalid[kind]++;
      this.#log.warn("skipping invalid message", {
        topic,
        partition,
        offset: message.offset,
        error: parsed.error,
        skipped_total: this.invalid[kind],
      });
      return;
    }
    const end = d.ends.get(`${topic}/${partition}`);
    const old = end !== undefined && BigInt(message.offset) < end;
    try {
      // The cast is sound: parseMessage(kind) returns MessageOf[kind].
      const attempts = await handleUntilDone(
        () => options.onMessage({ kind, message: parsed.value, text: parsed.text, old } as never),
        {
          heartbeat: d.heartbeat,
          signal: d.stop,
          onRetry: (err, attempt, pauseMs) =>
            this.#log.warn("message not handled yet; it is delivered again, unacknowledged", {
              topic,
              offset: message.offset,
              attempt,
              retry_in_ms: pauseMs,
              error: err instanceof Error ? err.message : String(err),
            }),
        },
      );
      if (attempts > 1) {
        this.#log.info("message handled", { topic, offset: message.offset, attempts });
      }
    } catch (err) {
      // Closing during a transient failure: thrown, so kafkajs does not commit its offset.
      if (isTransient(err)) throw err;
      this.#log.error("message handler failed; message skipped", {
        topic,
        offset: message.offset,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Those of `topics` on which `groupId` has committed an offset for some partition. */
  async #committedTopics(groupId: string, topics: readonly string[]): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId, topics: [...topics] });
      return offsets.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0))
        .map((t) => t.topic);
    } finally {
      await admin.disconnect();
    }
  }

  /** The next offset of every partition of `topics`, keyed `topic/partition`. */
  async #endOffsets(topics: readonly string[]): Promise<Map<string, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await endOffsets(admin, topics);
    } finally {
      await admin.disconnect();
    }
  }

  /** Whether every consumer of this bus hears the broker now (see {@link LinkMonitor}). */
  link(): LinkState {
    return this.#link.state(this.#now());
  }

  /**
   * Logs the link's changes as they happen, whether or not anyone asks: an operator reading a
   * driver's log should see when it lost Kafka and when it got it back.
   */
  #watchLink(): void {
    if (this.#linkTimer !== undefined) return;
    let last = this.link();
    this.#linkTimer = setInterval(() => {
      const now = this.link();
      if (now.connected === last.connected) return;
      if (now.connected) {
        this.#log.info("Kafka is reachable again", { unreachable_ms: now.since - last.since });
      } else {
        this.#log.warn("Kafka is unreachable", { last_heard: new Date(now.since).toISOString() });
      }
      last = now;
    }, LINK_STALE_MS / 4);
    // Only a log: it must never keep a process alive.
    Deno.unrefTimer(this.#linkTimer);
  }

  async close(): Promise<void> {
    for (const stop of this.#stops) stop.abort();
    this.#stops.clear();
    clearInterval(this.#linkTimer);
    this.#linkTimer = undefined;
    const subscriptions = [...this.#subscriptions];
    this.#subscriptions.clear();
    await Promise.allSettled(subscriptions.map((s) => s.close()));
    const producer = this.#producer ?? await this.#connecting?.catch(() => undefined);
    this.#producer = undefined;
    this.#connecting = undefined;
    await producer?.disconnect();
  }
}
