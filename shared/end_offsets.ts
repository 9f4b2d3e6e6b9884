/**
 * The end offsets of topics when a subscription starts: what is on them then is "old" to it
 * (see Delivered.old in bus.ts). kafkajs's `fetchTopicOffsets` retries an unknown topic only, so
 * a topic another process created a moment ago is tried again here (shared/kafka_retry.ts).
 */
import type { Admin } from "kafkajs";
import { KAFKA_RETRY, type KafkaRetry, withKafkaRetries } from "./kafka_retry.ts";

/** How often, and how patiently, a retriable failure is tried again. */
export type EndOffsetsRetry = KafkaRetry;

/** Like kafkajs's own retries (shared/kafka.ts): 200 ms doubling to 2 s, about a minute. */
export const END_OFFSETS_RETRY: EndOffsetsRetry = KAFKA_RETRY;

/** The next offset of every partition of `topics`, keyed `topic/partition`. */
export async function endOffsets(
  admin: Pick<Admin, "fetchTopicOffsets">,
  topics: readonly string[],
  retry: EndOffsetsRetry = END_OFFSETS_RETRY,
): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await withKafkaRetries(() => admin.fetchTopicOffsets(topic), retry)) {
      ends.set(`${topic}/${p.partition}`, BigInt(p.high));
    }
  }
  return ends;
}
