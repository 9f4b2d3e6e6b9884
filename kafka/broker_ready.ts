/**
 * When a freshly started broker is ready: it answers Kafka clients (not just TCP), with the
 * credentials it expects, and its group coordinator exists.
 */
import { type Admin, Kafka, logLevel } from "kafkajs";
import { pollUntil } from "../shared/async.ts";
import { installKafkajsFixes } from "../shared/kafkajs_fixes.ts";
import type { KafkaClientAccess } from "../shared/kafka_client_options.ts";

/**
 * Waits until the broker answers Kafka clients (not just TCP) and its cluster has at least
 * `expected` brokers, or throws after `timeoutMs`; `access` is how to reach it (the admin's
 * credentials on a SASL broker).
 */
export async function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  access: KafkaClientAccess = {},
  expected = 1,
): Promise<void> {
  installKafkajsFixes();
  const what = expected > 1 ? ` and ${expected} brokers in its cluster` : "";
  await pollUntil(() => kafkaAnswers(brokers, access, expected), {
    what: `Kafka at ${brokers.join(",")} to become ready${what}`,
    timeoutMs,
    intervalMs: 500,
  });
}

/** One try: true once the cluster has `expected` brokers and a controller; throws what kafkajs threw. */
async function kafkaAnswers(
  brokers: string[],
  access: KafkaClientAccess,
  expected: number,
): Promise<boolean> {
  const admin = new Kafka({
    ...access,
    clientId: "surge-wait",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length >= expected && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Asks for a group coordinator once, so the broker creates its offsets topic now: otherwise the
 * first consumer of every fresh broker logs a scary GROUP_COORDINATOR_NOT_AVAILABLE error while
 * kafkajs retries.
 */
export async function warmGroupCoordinator(admin: Admin): Promise<void> {
  await admin.connect();
  try {
    await admin.describeGroups(["surge-warmup"]);
  } catch {
    // Only a courtesy: consumers retry on their own.
  } finally {
    await admin.disconnect();
  }
}
