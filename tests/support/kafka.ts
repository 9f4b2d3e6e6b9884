/**
 * Kafka for integration tests. `deno task test` (tests/run.ts) makes sure a broker is up and sets
 * KAFKA_BROKERS; each test then works on its own topic prefix so tests never see each other's
 * messages, even on a shared cluster.
 */
import { parseBrokers } from "../../shared/config.ts";
import { KafkaBus } from "../../shared/kafka.ts";
import { createLogger } from "../../shared/log.ts";
import { type TopicNames, topicNames } from "../../shared/topics.ts";

/** The brokers of this test run; a clear error when the tests were not started by the runner. */
export function testBrokers(): string[] {
  const text = Deno.env.get("KAFKA_BROKERS");
  if (!text) {
    throw new Error(
      "KAFKA_BROKERS is not set: run the suite with `deno task test` (it starts a broker), " +
        "or start one with `deno task kafka` and set KAFKA_BROKERS=127.0.0.1:9092",
    );
  }
  return parseBrokers(text);
}

/** A topic prefix no other test uses. */
export function uniquePrefix(label = "t"): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}.`;
}

/** A connected {@link KafkaBus} on fresh, explicitly created topics. Close it in the test. */
export async function createTestBus(
  clientId: string,
  prefix = uniquePrefix(),
): Promise<{ bus: KafkaBus; topics: TopicNames; prefix: string }> {
  const topics = topicNames(prefix);
  const bus = new KafkaBus({
    brokers: testBrokers(),
    clientId,
    topics,
    logger: createLogger({ component: clientId }, { level: "warn" }),
  });
  await bus.ensureTopics();
  return { bus, topics, prefix };
}
