/** Configuration of `deno task kafka`: a pure function of environment and arguments. */
import { parseArgs } from "node:util";
import { parseBrokers, parsePort } from "../shared/config.ts";

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
  help: boolean;
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

/** Parses flags and env; throws RangeError listing every problem at once. */
export function parseKafkaConfig(
  env: Record<string, string | undefined>,
  args: string[],
): KafkaTaskConfig {
  const problems: string[] = [];
  let values: Record<string, string | boolean | undefined> = {};
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string" },
        "controller-port": { type: "string" },
        wipe: { type: "boolean" },
        fetch: { type: "boolean" },
        prefix: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    problems.push((err as Error).message);
  }
  const port = parsePort(String(values.port ?? env.KAFKA_PORT ?? "9092"), "--port", problems);
  const controllerPort = values["controller-port"] === undefined
    ? port + 1
    : parsePort(String(values["controller-port"]), "--controller-port", problems);
  if (port === controllerPort) problems.push("--controller-port must differ from --port");
  let external: string[] | undefined;
  if (env.KAFKA_BROKERS !== undefined) {
    try {
      external = parseBrokers(env.KAFKA_BROKERS);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const topicPrefix = String(values.prefix ?? env.SURGE_TOPIC_PREFIX ?? "");
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  return {
    port,
    controllerPort,
    wipe: values.wipe === true,
    fetchOnly: values.fetch === true,
    topicPrefix,
    external,
    help: values.help === true,
  };
}
