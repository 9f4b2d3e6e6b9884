/**
 * The end offsets of topics when a subscription starts: what is on them then is "old" to it
 * (see Delivered.old in bus.ts).
 *
 * Subtleness ahead: kafkajs's `fetchTopicOffsets` retries an unknown topic only. A topic that
 * another process created a moment ago can still answer "not the leader for that
 * topic-partition" (or "no leader yet") while its leader loads it: our own `createTopics` was
 * answered TOPIC_ALREADY_EXISTS, so kafkajs did not wait for leaders. kafkajs marks those
 * errors retriable but gives up at once, and a process whose start-up subscription throws exits
 * (an orchestrator and two drivers started together on fresh topics hit this). So retriable
 * errors are tried again here, with a bounded backoff.
 */
import type { Admin } from "kafkajs";
import { sleep as realSleep } from "./async.ts";
import { backoffDelay, type BackoffPolicy } from "./backoff.ts";

/** How often, and how patiently, a retriable failure is tried again. */
export interface EndOffsetsRetry extends BackoffPolicy {
  /** Tries after the first; then the last error is thrown. */
  retries: number;
  /** The wait between tries; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/** Like kafkajs's own retries (shared/kafka.ts): 200 ms doubling to 2 s, about a minute. */
export const END_OFFSETS_RETRY: EndOffsetsRetry = { initialMs: 200, maxMs: 2_000, retries: 30 };

/** kafkajs's errors say whether trying again may help. */
const retriable = (err: unknown) =>
  typeof err === "object" && err !== null && (err as { retriable?: unknown }).retriable === true;

/** The next offset of every partition of `topics`, keyed `topic/partition`. */
export async function endOffsets(
  admin: Pick<Admin, "fetchTopicOffsets">,
  topics: readonly string[],
  retry: EndOffsetsRetry = END_OFFSETS_RETRY,
): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (let failures = 0;; failures++) {
      try {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          ends.set(`${topic}/${p.partition}`, BigInt(p.high));
        }
        break;
      } catch (err) {
        if (!retriable(err) || failures >= retry.retries) throw err;
        await (retry.sleep ?? realSleep)(backoffDelay(failures + 1, retry));
      }
    }
  }
  return ends;
}
