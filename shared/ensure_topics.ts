/**
 * surge's topics are created explicitly at start-up (kafkajs would otherwise auto-create a
 * misspelt one). On a cluster with ACLs the components may not create topics: an admin creates
 * them once (`deno task kafka`), and a component that finds them all needs no CREATE right.
 */
import type { Admin } from "kafkajs";
import { TOPIC_KINDS, type TopicNames } from "./topics.ts";

/**
 * The broker stamps each message with its own clock on append. With the default (the producer's
 * clock), Kafka 4 refuses a message stamped more than an hour ahead of the broker
 * (`log.message.timestamp.after.max.ms`), so a driver whose clock ran 2 h fast could not even
 * register. surge reads only the timestamps inside its messages, which tolerate a day.
 */
const TOPIC_CONFIG = [{ name: "message.timestamp.type", value: "LogAppendTime" }];

/** Whether kafkajs's error (or any of an aggregate's) is the broker refusing by its ACLs. */
export function isAuthorizationError(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === "string" && type.endsWith("_AUTHORIZATION_FAILED")) return true;
  const errors = (err as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) && errors.some(isAuthorizationError);
}

/**
 * Creates any of `topics` that do not exist yet, with replication factor 1 and the broker's
 * clock on every message ({@link TOPIC_CONFIG}); the election topic always has one partition (its
 * owner is the active orchestrator). When the cluster's ACLs forbid it, the error says which
 * topics are missing and who can create them, instead of kafkajs's bare code.
 */
export async function ensureTopics(
  admin: Admin,
  topics: TopicNames,
  partitions = 1,
): Promise<void> {
  await admin.connect();
  try {
    // Under ACLs the list holds only the topics this user may describe.
    const existing = new Set(await admin.listTopics());
    const missing = [...TOPIC_KINDS, "orchestrators" as const].filter((kind) =>
      !existing.has(topics[kind])
    );
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((kind) => ({
          topic: topics[kind],
          numPartitions: kind === "orchestrators" ? 1 : partitions,
          replicationFactor: 1,
          configEntries: TOPIC_CONFIG,
        })),
      });
    } catch (err) {
      if (!isAuthorizationError(err)) throw err;
      const names = missing.map((kind) => topics[kind]).join(", ");
      throw new Error(
        `Kafka topics ${names} are missing or not visible to this Kafka user, and it may not ` +
          "create them: create them as an admin (`deno task kafka` with KAFKA_BROKERS and the " +
          "admin's KAFKA_SASL_* set) or grant this user DESCRIBE on them",
        { cause: err },
      );
    }
  } finally {
    await admin.disconnect();
  }
}
