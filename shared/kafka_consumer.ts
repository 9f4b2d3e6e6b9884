/**
 * One subscription on Kafka: a kafkajs consumer that tells the bus's {@link LinkMonitor} when it
 * hears the broker, and is replaced when it stops for good.
 *
 * kafkajs restarts a crashed consumer by itself only when the error was retriable; after any
 * other crash (a lock timeout, a coordinator not found while the broker restarts) the consumer
 * stays stopped, and a process would go deaf on that topic until restarted. So after such a
 * crash a fresh consumer with the same group takes over, retried with backoff until it runs:
 * the group's committed offsets make it resume where the old one stopped.
 *
 * kafkajs acknowledges (commits) each partition's share of every fetch with a round trip of its
 * own. With `commitEveryMs` the subscription does it instead, for every partition at once, that
 * often and when it closes: a handled message's offset is committed at most that long after it
 * was handled, so a crash delivers up to that much again.
 */
import type { Consumer, EachMessageHandler, TopicPartitionOffset } from "kafkajs";
import { backoffDelay, type BackoffPolicy } from "./backoff.ts";
import { sleep } from "./async.ts";
import type { Subscription } from "./bus.ts";
import type { LinkMonitor } from "./link_monitor.ts";
import type { Logger } from "./log.ts";

/** How long closing waits for the last offsets to be committed. */
const CLOSING_COMMIT_MS = 2_000;

/** How long between tries to replace a consumer that stopped for good. */
export const CONSUMER_RESTART: BackoffPolicy = { initialMs: 500, maxMs: 5_000 };

/** What {@link KafkaSubscription} consumes and how it gets a consumer. */
export interface KafkaSubscriptionDeps {
  /** A new, unconnected consumer of the subscription's group. */
  create: () => Consumer;
  topics: string[];
  fromBeginning: boolean;
  /**
   * Of `topics`, those whose partitions without an offset of this group are read from their
   * beginning whatever `fromBeginning` says (SubscribeOptions.resumeEveryPartition).
   */
  resumeTopics?: readonly string[];
  eachMessage: EachMessageHandler;
  /** Commit handled messages' offsets this often, not after every fetched batch. */
  commitEveryMs?: number;
  link: LinkMonitor;
  logger: Logger;
  now?: () => number;
  restart?: BackoffPolicy;
}

/** A running subscription; {@link start} it, {@link close} it once. */
export class KafkaSubscription implements Subscription {
  readonly id = crypto.randomUUID();
  #deps: KafkaSubscriptionDeps;
  #now: () => number;
  #consumer: Consumer | undefined;
  #closing = new AbortController();
  #replacing: Promise<void> | undefined;
  /** The first group join of any of its consumers (a replacement's too, if the first crashed). */
  #joined = Promise.withResolvers<void>();
  /** How many consumers were started after the first crashed for good. */
  replacements = 0;
  /** With `commitEveryMs`: the next offset of each partition, handled but not committed yet. */
  #handled = new Map<string, TopicPartitionOffset>();
  #committing: Promise<void> | undefined;
  #commitTimer: ReturnType<typeof setInterval> | undefined;

  constructor(deps: KafkaSubscriptionDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Runs the first consumer; resolves once it has joined its group, throws if it cannot run. */
  async start(): Promise<void> {
    const consumer = this.#create();
    try {
      await this.#run(consumer);
    } catch (err) {
      this.#consumer = undefined;
      await consumer.disconnect().catch(() => {});
      throw err;
    }
    await this.#joined.promise;
    this.#deps.link.watch(this.id, this.#now());
    const every = this.#deps.commitEveryMs;
    if (every !== undefined) this.#commitTimer = setInterval(() => void this.#commit(), every);
  }

  /**
   * Stops the consumer. A replacement under way gives up: its consumer is the current one, so it
   * is disconnected here, and one that starts running after this is disconnected by itself.
   */
  async close(): Promise<void> {
    this.#closing.abort();
    clearInterval(this.#commitTimer);
    this.#deps.link.unwatch(this.id, this.#now());
    if (this.#deps.commitEveryMs !== undefined) {
      // What is handled goes out, within a bound: with Kafka away it is delivered again instead.
      const waited = new AbortController();
      const committed = (this.#committing ?? Promise.resolve()).then(() => this.#commit());
      await Promise.race([
        committed.finally(() => waited.abort()),
        sleep(CLOSING_COMMIT_MS, waited.signal),
      ]);
    }
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.disconnect();
  }

  /**
   * Commits the offsets handled since the last commit. One that fails (Kafka away) is tried
   * again at the next, unless a later offset of its partition has been handled meanwhile.
   */
  #commit(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined || this.#handled.size === 0) return Promise.resolve();
    if (this.#committing !== undefined) return this.#committing;
    const offsets = new Map(this.#handled);
    this.#handled.clear();
    this.#committing = consumer.commitOffsets([...offsets.values()]).catch((err) => {
      for (const [key, offset] of offsets) {
        if (!this.#handled.has(key)) this.#handled.set(key, offset);
      }
      this.#deps.logger.debug("Kafka offsets not committed yet; trying again", {
        error: err instanceof Error ? err.message : String(err),
      });
    }).finally(() => this.#committing = undefined);
    return this.#committing;
  }

  /** A new consumer whose activity (while it is the current one) reaches the link monitor. */
  #create(): Consumer {
    const consumer = this.#deps.create();
    this.#consumer = consumer;
    const { link } = this.#deps;
    const { events } = consumer;
    const mine = (fn: () => void) => () => {
      if (this.#consumer === consumer) fn();
    };
    consumer.on(
      events.GROUP_JOIN,
      mine(() => {
        this.#joined.resolve();
        link.heard(this.id, this.#now());
      }),
    );
    consumer.on(events.FETCH, mine(() => link.heard(this.id, this.#now())));
    consumer.on(events.START_BATCH_PROCESS, mine(() => link.busy(this.id, true, this.#now())));
    consumer.on(events.END_BATCH_PROCESS, mine(() => link.busy(this.id, false, this.#now())));
    consumer.on(events.CRASH, (event) => {
      if (this.#consumer !== consumer) return;
      link.crashed(this.id, this.#now());
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      if (restart || this.#closing.signal.aborted) return; // kafkajs restarts it itself
      this.#deps.logger.error("Kafka consumer stopped for good; starting a new one", {
        error: error?.message ?? String(error),
      });
      this.#replacing ??= this.#replace(consumer).finally(() => this.#replacing = undefined);
    });
    return consumer;
  }

  async #run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    const resume = this.#deps.resumeTopics ?? [];
    const rest = this.#deps.topics.filter((topic) => !resume.includes(topic));
    if (rest.length > 0) {
      await consumer.subscribe({ topics: rest, fromBeginning: this.#deps.fromBeginning });
    }
    if (resume.length > 0) await consumer.subscribe({ topics: [...resume], fromBeginning: true });
    const { eachMessage, commitEveryMs } = this.#deps;
    if (commitEveryMs === undefined) return void await consumer.run({ eachMessage });
    await consumer.run({
      autoCommit: false,
      eachMessage: async (payload) => {
        await eachMessage(payload);
        const { topic, partition, message } = payload;
        const offset = (BigInt(message.offset) + 1n).toString();
        this.#handled.set(`${topic}/${partition}`, { topic, partition, offset });
      },
    });
  }

  /** Replaces a stopped consumer, retrying with backoff until one runs or the subscription closes. */
  async #replace(stopped: Consumer): Promise<void> {
    await stopped.disconnect().catch(() => {});
    const signal = this.#closing.signal;
    const policy = this.#deps.restart ?? CONSUMER_RESTART;
    for (let failures = 1; !signal.aborted; failures++) {
      await sleep(backoffDelay(failures, policy), signal);
      if (signal.aborted) return;
      const next = this.#create();
      try {
        await this.#run(next);
        if (signal.aborted) return void await next.disconnect().catch(() => {});
        this.replacements++;
        this.#deps.logger.info("Kafka consumer started again", { tries: failures });
        return;
      } catch (err) {
        this.#deps.logger.warn("Kafka consumer could not start yet; trying again", {
          error: err instanceof Error ? err.message : String(err),
        });
        await next.disconnect().catch(() => {});
      }
    }
  }
}
