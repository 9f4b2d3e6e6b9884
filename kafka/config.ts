/** Configuration of `deno task kafka`: a pure function of environment and arguments. */
import { z } from "zod";
import { type Env, flag, flagOrEnv, readArgs, validate } from "../shared/cli_args.ts";
import { brokersText, kafkaEnv, portText, topicPrefixText } from "../shared/config.ts";
import { HELP, type Help } from "../shared/usage_error.ts";

/** What `deno task kafka` was asked to do. */
export interface KafkaTaskConfig {
  port: number;
  controllerPort: number;
  wipe: boolean;
  /** Only resolve the jars into the cache, then exit (CI and first-time set-up). */
  fetchOnly: boolean;
  topicPrefix: string;
  /** Set when KAFKA_BROKERS names an existing cluster: start nothing, only create topics. */
  external: string[] | undefined;
}

/** Usage text for `deno task kafka`. */
export const KAFKA_USAGE =
  `Usage: deno task kafka [--port N] [--controller-port N] [--wipe] [--fetch] [--prefix P]

Starts a single-node Apache Kafka broker (KRaft) on 127.0.0.1, creates surge's topics and runs
in the foreground until Ctrl-C.
  --port N             client port (default 9092, or KAFKA_PORT)
  --controller-port N  KRaft controller port (default: port + 1)
  --wipe               delete the broker's data directory first
  --fetch              only download Kafka's jars into the cache (Maven), then exit
  --prefix P           topic-name prefix (default SURGE_TOPIC_PREFIX or none)
With KAFKA_BROKERS set, nothing is started: the topics are created on that cluster.`;

const schema = z.object({
  port: portText,
  controllerPort: portText.optional(),
  topicPrefix: topicPrefixText,
  external: brokersText.optional(),
}).refine((c) => c.controllerPort !== c.port, {
  path: ["controllerPort"],
  message: "must differ from --port",
});

/** Parses flags and env; throws a UsageError listing every problem at once. */
export function parseKafkaConfig(env: Env, args: readonly string[]): KafkaTaskConfig | Help {
  const { help, values, problems } = readArgs(args, {
    port: { type: "string" },
    "controller-port": { type: "string" },
    wipe: { type: "boolean" },
    fetch: { type: "boolean" },
    prefix: { type: "string" },
  });
  if (help) return HELP;
  const prefix = flagOrEnv("prefix", values.prefix, env, "SURGE_TOPIC_PREFIX", "");
  const { brokers, topicPrefix } = kafkaEnv(env, { startsBroker: true, prefix });
  const c = validate(schema, {
    port: flagOrEnv("port", values.port, env, "KAFKA_PORT", "9092"),
    controllerPort: flag("controller-port", values["controller-port"]),
    topicPrefix,
    external: brokers,
  }, problems);
  return {
    port: c.port,
    controllerPort: c.controllerPort ?? c.port + 1,
    wipe: values.wipe === true,
    fetchOnly: values.fetch === true,
    topicPrefix: c.topicPrefix,
    external: c.external,
  };
}
