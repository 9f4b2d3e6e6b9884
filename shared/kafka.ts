/**
 * The Kafka implementation of {@link MessageBus}, on kafkajs. It parses every message at the edge:
 * one that does not validate is logged, counted and skipped, never thrown out of `eachMessage`
 * (kafkajs would redeliver a poison message forever). A handler's transient failure is retried
 * in `eachMessage` with a growing pause (redelivery.ts), the offset uncommitted until it succeeds.
 */
import { type Admin, type Consumer, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { InvalidCounts, MessageBus, SubscribeOptions, Subscription } from "./bus.ts";
import { isTransient, zeroInvalidCounts } from "./bus.ts";
import { handleUntilDone } from "./redelivery.ts";
import { encodeMessage, type InputOf, parseMessage } from "./messages.ts";
import { kindOfTopic, TOPIC_KINDS, type TopicKind, type TopicNames } from "./topics.ts";
import type { Logger } from "./log.ts";
import process from "node:process";

let warningFilterInstalled = false;
/**
 * kafkajs computes some timer delays from wall-clock differences that can go negative; Node's
 * compat layer then prints a TimeoutNegativeWarning per request. The timer still fires at once,
 * which is what kafkajs wants, so the warning is pure noise: drop that one warning type only.
 */
export function silenceKafkajsTimerWarnings(): void {
  if (warningFilterInstalled) return;
  warningFilterInstalled = true;
  const original = process.emitWarning;
  process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
    const first = rest[0];
    const type = typeof first === "string" ? first : (first as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === "TimeoutNegativeWarning" || type === "TimeoutNegativeWarning") return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
}

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
  /** kafkajs's own log level; its INFO lines are chatty, so WARN by default. */
  kafkaLogLevel?: logLevel;
}

/** A {@link MessageBus} over a real Kafka cluster. */
export class KafkaBus implements MessageBus {
  readonly invalid: InvalidCounts = zeroInvalidCounts();
  readonly kafka: Kafka;
  #producer: Producer | undefined;
  #connecting: Promise<Producer> | undefined;
  #consumers = new Set<Consumer>();
  /** One per subscription: aborted on close, it ends a message's redelivery (redelivery.ts). */
  #stops = new Set<AbortController>();
  #options: KafkaBusOptions;
  #log: Logger;

  constructor(options: KafkaBusOptions) {
    silenceKafkajsTimerWarnings();
    this.#options = options;
    this.#log = options.logger.child({ kafka: options.clientId });
    const kafkaLog = options.logger.child({ component: "kafkajs" });
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: options.kafkaLogLevel ?? logLevel.WARN,
      logCreator: () => ({ level, log }) => {
        // kafkajs repeats its own timestamp and logger name and adds a stack trace to every
        // connection error; a retrying client would print a screenful per second.
        const { message, timestamp: _t, logger: _l, stack: _s, ...extra } = log;
        kafkaLog[KAFKA_LEVELS[level] ?? "info"](String(message), extra);
      },
      retry: { initialRetryTime: 200, retries: 8 },
    });
  }

  /** Creates the five topics if they do not exist (kafkajs would otherwise auto-create typos). */
  async ensureTopics(partitions = 1): Promise<void> {
    await ensureTopics(this.kafka.admin(), this.#options.topics, partitions);
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
    await producer.send({ topic: this.#options.topics[kind], messages: [{ key, value }] });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
    });
    this.#consumers.add(consumer);
    const stop = new AbortController();
    this.#stops.add(stop);
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    try {
      const topics = options.kinds.map((kind) => this.#options.topics[kind]);
      // What is on the topics now is "old" to this subscription (see Delivered.old).
      const ends = options.fromBeginning ? await this.#endOffsets(topics) : new Map();
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
      await consumer.run({
        eachMessage: async ({ topic, partition, message, heartbeat }) => {
          const end = ends.get(`${topic}/${partition}`);
          const old = end !== undefined && BigInt(message.offset) < end;
          const kind = kindOfTopic(this.#options.topics, topic);
          if (kind === undefined) return;
          const parsed = parseMessage(kind, message.value, Date.now());
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
          try {
            // The cast is sound: parseMessage(kind) returns MessageOf[kind].
            const attempts = await handleUntilDone(
              () => options.onMessage({ kind, message: parsed.value, old } as never),
              {
                heartbeat,
                signal: stop.signal,
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
        },
      });
    } catch (err) {
      this.#consumers.delete(consumer);
      this.#stops.delete(stop);
      await consumer.disconnect().catch(() => {});
      throw err;
    }
    await joined;
    return {
      close: async () => {
        stop.abort();
        this.#stops.delete(stop);
        this.#consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  }

  /** The next offset of every partition of `topics`, keyed `topic/partition`. */
  async #endOffsets(topics: readonly string[]): Promise<Map<string, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const ends = new Map<string, bigint>();
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          ends.set(`${topic}/${p.partition}`, BigInt(p.high));
        }
      }
      return ends;
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    for (const stop of this.#stops) stop.abort();
    this.#stops.clear();
    const consumers = [...this.#consumers];
    this.#consumers.clear();
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    const producer = this.#producer ?? await this.#connecting?.catch(() => undefined);
    this.#producer = undefined;
    this.#connecting = undefined;
    await producer?.disconnect();
  }
}

/** Creates any of `topics` that do not exist yet, with replication factor 1. */
export async function ensureTopics(
  admin: Admin,
  topics: TopicNames,
  partitions = 1,
): Promise<void> {
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPIC_KINDS.map((kind) => topics[kind]).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
