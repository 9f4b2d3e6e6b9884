/**
 * The one place that names surge's Kafka topics. Nothing else in the codebase spells a topic
 * string: kafkajs would auto-create a misspelt topic and the message would vanish into it.
 */

/** The five kinds of message that travel between the orchestrator and the drivers. */
export const TOPIC_KINDS = ["register", "test_config", "trigger", "metrics", "heartbeat"] as const;

/** One of {@link TOPIC_KINDS}. */
export type TopicKind = typeof TOPIC_KINDS[number];

/**
 * Maps each topic kind to the actual topic name on the cluster, plus `orchestrators`: a
 * single-partition topic that carries no messages, whose consumer group decides which
 * orchestrator is active (orchestrator/kafka_election.ts).
 */
export type TopicNames = Readonly<Record<TopicKind | "orchestrators", string>>;

const PREFIX_PATTERN = /^[A-Za-z0-9._-]{0,100}$/;

/**
 * Topic names with an optional prefix, so several teams (or test runs) can share one cluster.
 * The prefix may hold only the characters Kafka allows in a topic name.
 */
export function topicNames(prefix = ""): TopicNames {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new RangeError(
      `Invalid topic prefix "${prefix}": use at most 100 of A-Z a-z 0-9 . _ -`,
    );
  }
  return {
    register: `${prefix}register`,
    test_config: `${prefix}test_config`,
    trigger: `${prefix}trigger`,
    metrics: `${prefix}metrics`,
    heartbeat: `${prefix}heartbeat`,
    orchestrators: `${prefix}orchestrators`,
  };
}

/** The topic kind a topic name belongs to, or undefined for a topic that is not ours. */
export function kindOfTopic(names: TopicNames, topic: string): TopicKind | undefined {
  return TOPIC_KINDS.find((kind) => names[kind] === topic);
}
