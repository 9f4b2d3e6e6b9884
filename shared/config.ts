/** Small validators shared by every component's pure `parseConfig(env, args)`. */
import { topicNames } from "./topics.ts";

/** Parses `KAFKA_BROKERS`-style text (`host:port,host:port`); throws RangeError naming the bad entry. */
export function parseBrokers(text: string): string[] {
  const brokers = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (brokers.length === 0) {
    throw new RangeError("KAFKA_BROKERS is empty: expected host:port[,host:port]");
  }
  for (const broker of brokers) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(broker);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      throw new RangeError(
        `Invalid Kafka broker "${broker}": expected host:port with a port 1-65535`,
      );
    }
  }
  return brokers;
}

/** Parses a TCP port (1-65535); on a bad value records a problem naming `what` and returns 0. */
export function parsePort(text: string, what: string, problems: string[]): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) {
    problems.push(`${what} must be a port number 1-65535, got "${text}"`);
    return 0;
  }
  return n;
}

/** Parses a whole number within [min, max]; on a bad value records a problem and returns `min`. */
export function parseIntIn(
  text: string,
  what: string,
  min: number,
  max: number,
  problems: string[],
): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) {
    problems.push(`${what} must be a whole number from ${min} to ${max}, got "${text}"`);
    return min;
  }
  return n;
}

/** Parses a finite number within [min, max]; on a bad value records a problem and returns `min`. */
export function parseNumberIn(
  text: string,
  what: string,
  min: number,
  max: number,
  problems: string[],
): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    problems.push(`${what} must be a number from ${min} to ${max}, got "${text}"`);
    return min;
  }
  return n;
}

/** Where a component finds Kafka, from `KAFKA_BROKERS` and `SURGE_TOPIC_PREFIX`. */
export interface KafkaEnv {
  brokers: string[];
  topicPrefix: string;
}

/** Parses the Kafka environment every component shares; records problems, never throws. */
export function parseKafkaEnv(
  env: Record<string, string | undefined>,
  problems: string[],
): KafkaEnv {
  let brokers: string[] = [];
  try {
    brokers = parseBrokers(env.KAFKA_BROKERS ?? "127.0.0.1:9092");
  } catch (err) {
    problems.push((err as Error).message);
  }
  const topicPrefix = env.SURGE_TOPIC_PREFIX ?? "";
  try {
    topicNames(topicPrefix);
  } catch (err) {
    problems.push(`SURGE_TOPIC_PREFIX: ${(err as Error).message}`);
  }
  return { brokers, topicPrefix };
}
