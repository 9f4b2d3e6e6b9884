/**
 * zod schemas for the values every entry point reads as text — whole numbers, ports, the Kafka
 * environment — to use with `validate()` (shared/cli_args.ts). Each one either yields a valid
 * value or reports a problem that names the value; none stands in a default for a bad one.
 */
import { z } from "zod";
import { type Env, type Given, validate } from "./cli_args.ts";
import { parseLogLevel } from "./log.ts";
import { accessVariables, kafkaAccessSchema } from "./kafka_access.ts";
import { httpUrlSchema } from "./messages.ts";
import { topicNames } from "./topics.ts";

/** Where Kafka is when KAFKA_BROKERS is unset. */
export const DEFAULT_BROKERS = "127.0.0.1:9092";

/** Text that `valid` accepts, as the number it spells; else the one issue `message`. */
function numeric(valid: (text: string, n: number) => boolean, message: string) {
  // abort: a text that is not a number must not reach the rules that compare numbers.
  return z.string().refine((text) => valid(text.trim(), Number(text)), { message, abort: true })
    .transform(Number);
}

/** Text → a whole number from `min` to `max`. */
export function wholeNumberText(min: number, max: number) {
  return numeric(
    (t, n) => /^-?\d+$/.test(t) && n >= min && n <= max,
    `must be a whole number from ${min} to ${max}`,
  );
}

/** Text → a finite number from `min` to `max`. */
export function numberText(min: number, max: number) {
  return numeric(
    (t, n) => t !== "" && Number.isFinite(n) && n >= min && n <= max,
    `must be a number from ${min} to ${max}`,
  );
}

/** Text → any finite number; the limits are the target schema's (`numberText.pipe(...)`). */
export const anyNumberText = numeric(
  (t, n) => t !== "" && Number.isFinite(n),
  "must be a number",
);

/** Text → a TCP port 1-65535. */
export const portText = numeric(
  (t, n) => /^\d+$/.test(t) && n >= 1 && n <= 65535,
  "must be a port number 1-65535",
);

/** An absolute http(s) URL (the same check as a test's `target_url`), without trailing "/". */
export const baseUrlText = httpUrlSchema.transform((text) =>
  new URL(text).href.replace(/\/+$/, "")
);

/** `LOG_LEVEL`: one of the logger's levels. */
export const logLevelText = z.string().refine(
  (text) => parseLogLevel(text) === text,
  "must be debug, info, warn or error",
).transform(parseLogLevel);

const BROKER = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `KAFKA_BROKERS` text (`host:port,host:port`) → the list; each bad entry is named. */
export const brokersText = z.string().transform((text, ctx) => {
  const brokers = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (brokers.length === 0) {
    ctx.addIssue({ code: "custom", message: "must be host:port[,host:port]", continue: false });
  }
  for (const broker of brokers) {
    const port = Number(BROKER.exec(broker)?.[2] ?? 0);
    if (port < 1 || port > 65535) {
      ctx.addIssue({
        code: "custom",
        message: `has an invalid entry "${broker}": expected host:port with a port 1-65535`,
        input: broker,
        continue: false,
      });
    }
  }
  return brokers;
});

/** A topic-name prefix, as `topicNames()` accepts it. */
export const topicPrefixText = z.string().superRefine((prefix, ctx) => {
  try {
    topicNames(prefix);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `is not usable: ${(err as Error).message}` });
  }
});

/**
 * The Kafka settings of a Kafka client, to spread into a config's schema: the brokers, the topic
 * prefix and how to reach them (TLS, SASL: shared/kafka_access.ts).
 */
export const kafkaEnvShape = {
  brokers: brokersText,
  topicPrefix: topicPrefixText,
  access: kafkaAccessSchema,
};

/** Set means non-blank: `KAFKA_BROKERS=` in a shell counts as unset, everywhere. */
function brokersSet(env: Env): string | undefined {
  return env.KAFKA_BROKERS?.trim() ? env.KAFKA_BROKERS : undefined;
}

/**
 * The Kafka settings as given, for {@link kafkaEnvShape}: KAFKA_BROKERS, SURGE_TOPIC_PREFIX or
 * the `prefix` flag that overrides it, and the KAFKA_SSL and KAFKA_SASL variables. Unset
 * KAFKA_BROKERS means {@link DEFAULT_BROKERS}, except with `startsBroker` (the commands that
 * start a broker of their own when it is unset).
 */
export function kafkaEnv(
  env: Env,
  options: { startsBroker?: boolean; prefix?: Given } = {},
): { brokers: Given; topicPrefix: Given; access: Given } {
  const fallback = options.startsBroker ? undefined : DEFAULT_BROKERS;
  return {
    brokers: { name: "KAFKA_BROKERS", value: brokersSet(env) ?? fallback },
    topicPrefix: options.prefix ??
      { name: "SURGE_TOPIC_PREFIX", value: env.SURGE_TOPIC_PREFIX ?? "" },
    // Its problems name their own variables (there are several), so the value has no name.
    access: { name: "", value: accessVariables(env) },
  };
}

/** `KAFKA_BROKERS`-style text as a list; throws a UsageError naming each bad entry. */
export function parseBrokers(text: string): string[] {
  return validate(z.object({ brokers: brokersText }), {
    brokers: { name: "KAFKA_BROKERS", value: text },
  }).brokers;
}
