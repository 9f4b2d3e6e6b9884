/**
 * Trying a kafkajs admin call again when Kafka says "not now". A topic created a moment ago can
 * answer "not the leader for that topic-partition", "no leader yet" or "this server does not host
 * this topic-partition" while its leader loads it (on a cluster, each broker learns of a new topic
 * a little later than the controller). kafkajs marks those errors retriable but some of its admin
 * calls give up at once, and a process whose start-up step throws exits.
 */
import { sleep as realSleep } from "./async.ts";
import { backoffDelay, type BackoffPolicy } from "./backoff.ts";

/** How often, and how patiently, a retriable failure is tried again. */
export interface KafkaRetry extends BackoffPolicy {
  /** Tries after the first; then the last error is thrown. */
  retries: number;
  /** The wait between tries; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/** Like kafkajs's own retries (shared/kafka.ts): 200 ms doubling to 2 s, about a minute. */
export const KAFKA_RETRY: KafkaRetry = { initialMs: 200, maxMs: 2_000, retries: 30 };

/** Whether kafkajs's error (or every error of an aggregate) says trying again may help. */
export function retriable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  if ((err as { retriable?: unknown }).retriable === true) return true;
  const errors = (err as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every(retriable);
}

/** Runs `call`, again after a growing pause while it fails with a {@link retriable} error. */
export async function withKafkaRetries<T>(
  call: () => Promise<T>,
  retry: KafkaRetry = KAFKA_RETRY,
): Promise<T> {
  for (let failures = 0;; failures++) {
    try {
      return await call();
    } catch (err) {
      if (!retriable(err) || failures >= retry.retries) throw err;
      await (retry.sleep ?? realSleep)(backoffDelay(failures + 1, retry));
    }
  }
}
