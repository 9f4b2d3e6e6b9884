/**
 * surge's topics are created explicitly at start-up (kafkajs would otherwise auto-create a
 * misspelt one). On a cluster with ACLs the components may not create topics: an admin creates
 * them once (`deno task kafka`), and a component that finds them all needs no CREATE right.
 */
import type { Admin } from "kafkajs";
import { withKafkaRetries } from "./kafka_retry.ts";
import { TOPIC_KINDS, type TopicKind, type TopicNames } from "./topics.ts";

/**
 * The broker stamps each message with its own clock on append. With the default (the producer's
 * clock), Kafka 4 refuses a message stamped more than an hour ahead of the broker
 * (`log.message.timestamp.after.max.ms`), so a driver whose clock ran 2 h fast could not even
 * register. surge reads only the timestamps inside its messages, which tolerate a day.
 */
const TIMESTAMP_CONFIG = { name: "message.timestamp.type", value: "LogAppendTime" };

/**
 * Partitions of the metrics topic. Metrics are keyed by node id, so each driver's reports stay in
 * order on one partition, while a fleet's reports spread over every broker's leaders instead of
 * funnelling through one. Every other topic has one partition: their order is the protocol.
 */
export const METRICS_PARTITIONS = 6;

/**
 * How topics are replicated on a cluster of `brokers`: 3 copies where there are 3, and a write
 * counts (producers use acks=all) once 2 have it, so one broker may die without losing an
 * acknowledged message or refusing writes. Smaller clusters keep what they can.
 */
export function replicationFor(brokers: number): { factor: number; minInsync: number } {
  const factor = Math.max(1, Math.min(3, brokers));
  return { factor, minInsync: factor >= 3 ? 2 : 1 };
}

/** The partitions topic `kind` is created with ({@link METRICS_PARTITIONS}). */
export function partitionsOf(kind: TopicKind | "orchestrators"): number {
  return kind === "metrics" ? METRICS_PARTITIONS : 1;
}

/** Every topic surge makes: the five of the protocol and the election's. */
const EVERY_KIND = [...TOPIC_KINDS, "orchestrators" as const];

/** Whether kafkajs's error says only that the topics exist (another process made them first). */
function isAlreadyExists(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === "TOPIC_ALREADY_EXISTS") return true;
  const errors = (err as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every(isAlreadyExists);
}

/** Whether kafkajs's error (or any of an aggregate's) is the broker refusing by its ACLs. */
export function isAuthorizationError(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === "string" && type.endsWith("_AUTHORIZATION_FAILED")) return true;
  const errors = (err as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) && errors.some(isAuthorizationError);
}

/**
 * Creates any of `topics` that do not exist yet, replicated to fit the cluster's brokers
 * ({@link replicationFor}), partitioned by {@link partitionsOf}, with the broker's clock on every
 * message ({@link TIMESTAMP_CONFIG}). Another process creating them at the same moment is fine.
 * When the cluster's ACLs forbid it, the error says which topics are missing and who can create
 * them, instead of kafkajs's bare code.
 */
export async function ensureTopics(admin: Admin, topics: TopicNames): Promise<void> {
  await admin.connect();
  try {
    await withKafkaRetries(() => createMissing(admin, topics));
  } finally {
    await admin.disconnect();
  }
}

/**
 * One try of {@link ensureTopics} on a connected admin. A broker that has not yet learnt of a
 * topic another node just created answers with a retriable error: the caller tries again.
 */
async function createMissing(admin: Admin, topics: TopicNames): Promise<void> {
  // Under ACLs the list holds only the topics this user may describe.
  const existing = new Set(await admin.listTopics());
  await checkPartitions(admin, topics, existing);
  const missing = EVERY_KIND.filter((kind) => !existing.has(topics[kind]));
  if (missing.length === 0) return;
  try {
    const { brokers } = await admin.describeCluster();
    const { factor, minInsync } = replicationFor(brokers.length);
    const minInsyncConfig = { name: "min.insync.replicas", value: String(minInsync) };
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((kind) => ({
        topic: topics[kind],
        numPartitions: partitionsOf(kind),
        replicationFactor: factor,
        configEntries: [TIMESTAMP_CONFIG, minInsyncConfig],
      })),
    });
  } catch (err) {
    if (isAlreadyExists(err)) return;
    if (!isAuthorizationError(err)) throw err;
    const names = missing.map((kind) => topics[kind]).join(", ");
    throw new Error(
      `Kafka topics ${names} are missing or not visible to this Kafka user, and it may not ` +
        "create them: create them as an admin (`deno task kafka` with KAFKA_BROKERS and the " +
        "admin's KAFKA_SASL_* set) or grant this user DESCRIBE on them",
      { cause: err },
    );
  }
}

/**
 * Refuses single-partition topics (see {@link partitionsOf}) that someone made with more: a
 * managed Kafka's default, an admin's script. On those, commands and heartbeats would arrive out
 * of order, and the orchestrator's heartbeat probes would vouch for one partition while drivers'
 * heartbeats travel on others. surge cannot repartition them itself, so it says which and stops.
 */
async function checkPartitions(
  admin: Admin,
  topics: TopicNames,
  existing: ReadonlySet<string>,
): Promise<void> {
  const single = EVERY_KIND
    .filter((kind) => partitionsOf(kind) === 1 && existing.has(topics[kind]))
    .map((kind) => topics[kind]);
  if (single.length === 0) return;
  const { topics: found } = await admin.fetchTopicMetadata({ topics: single });
  const wrong = found.filter((t) => t.partitions.length !== 1);
  if (wrong.length === 0) return;
  const names = wrong.map((t) => `${t.name} (${t.partitions.length} partitions)`).join(", ");
  throw new Error(
    `Kafka topics ${names} must have exactly one partition: the order of their messages is ` +
      "surge's protocol. Delete them and let surge create them (or create them with one " +
      "partition), or use other topics with SURGE_TOPIC_PREFIX",
  );
}
