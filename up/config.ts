/** Configuration of `deno task up`: a pure function of environment and arguments. */
import { parseArgs } from "node:util";
import { parseBrokers, parseIntIn, parsePort } from "../shared/config.ts";

/** What `deno task up` was asked to start. */
export interface UpConfig {
  drivers: number;
  /** Load workers per driver; undefined lets each driver pick (its number of cores). */
  workers: number | undefined;
  demo: boolean;
  orchestratorPort: number;
  targetPort: number;
  kafkaPort: number;
  /** Set when KAFKA_BROKERS names a cluster: start no broker. */
  externalBrokers: string[] | undefined;
  topicPrefix: string;
  /** The orchestrator's data dir; undefined keeps its default. */
  dataDir: string | undefined;
  help: boolean;
}

/** Usage text. */
export const UP_USAGE = `Usage: deno task up [--drivers N] [--demo] [options]

Starts a whole local surge cluster in the foreground: a Kafka broker (unless KAFKA_BROKERS is
set), the target on 127.0.0.1:8080, the orchestrator with its dashboard on 127.0.0.1:8000 and N
drivers named one, two, three, ... Ctrl-C stops everything.
  --drivers N         number of drivers (default 2, at most 20)
  --workers N         load workers per driver (default: the number of cores)
  --demo              then run a short Avalanche and a short Tsunami test and print their results
  --port N            orchestrator and dashboard port (default 8000)
  --target-port N     target port (default 8080)
  --kafka-port N      port of the local Kafka broker (default 9092; KAFKA_PORT)
  --data-dir DIR      the orchestrator's data dir (default .data/orchestrator)
Environment: KAFKA_BROKERS (use that cluster, start no broker), SURGE_TOPIC_PREFIX.
'deno task demo' is 'deno task up --demo'.`;

/** Parses flags and env; throws RangeError listing every problem at once. */
export function parseUpConfig(
  env: Record<string, string | undefined>,
  args: readonly string[],
): UpConfig {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        drivers: { type: "string" },
        workers: { type: "string" },
        demo: { type: "boolean" },
        port: { type: "string" },
        "target-port": { type: "string" },
        "kafka-port": { type: "string" },
        "data-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new RangeError((err as Error).message);
  }
  const problems: string[] = [];
  const drivers = parseIntIn(values.drivers ?? "2", "--drivers", 1, 20, problems);
  const workers = values.workers === undefined
    ? undefined
    : parseIntIn(values.workers, "--workers", 1, 256, problems);
  const orchestratorPort = parsePort(values.port ?? "8000", "--port", problems);
  const targetPort = parsePort(values["target-port"] ?? "8080", "--target-port", problems);
  const kafkaPort = parsePort(
    values["kafka-port"] ?? env.KAFKA_PORT ?? "9092",
    "--kafka-port",
    problems,
  );
  let externalBrokers: string[] | undefined;
  if (env.KAFKA_BROKERS !== undefined && env.KAFKA_BROKERS.trim() !== "") {
    try {
      externalBrokers = parseBrokers(env.KAFKA_BROKERS);
    } catch (err) {
      problems.push(`KAFKA_BROKERS: ${(err as Error).message}`);
    }
  }
  const ports: [string, number][] = [
    ["--port", orchestratorPort],
    ["--target-port", targetPort],
  ];
  if (!externalBrokers) {
    ports.push(["--kafka-port", kafkaPort], ["--kafka-port + 1", kafkaPort + 1]);
  }
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (ports[i]![1] !== 0 && ports[i]![1] === ports[j]![1]) {
        problems.push(`${ports[i]![0]} and ${ports[j]![0]} are both ${ports[i]![1]}`);
      }
    }
  }
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  return {
    drivers,
    workers,
    demo: values.demo === true,
    orchestratorPort,
    targetPort,
    kafkaPort,
    externalBrokers,
    topicPrefix: env.SURGE_TOPIC_PREFIX ?? "",
    dataDir: values["data-dir"],
    help: values.help === true,
  };
}
