/** Configuration of `deno task up`: a pure function of environment and arguments. */
import { z } from "zod";
import { type Env, flag, flagOrEnv, readArgs, validate } from "../shared/cli_args.ts";
import {
  brokersText,
  kafkaEnv,
  portText,
  topicPrefixText,
  wholeNumberText,
} from "../shared/config.ts";
import { kafkaAccessSchema, usesAccess } from "../shared/kafka_access.ts";
import { HELP, type Help } from "../shared/usage_error.ts";
import { MAX_LOCAL_NODES } from "../kafka/cluster_layout.ts";

/** What `deno task up` was asked to start. */
export interface UpConfig {
  drivers: number;
  /** Kafka nodes to start on loopback (ports kafkaPort, kafkaPort + 2, ...). */
  brokers: number;
  /** Load workers per driver; undefined lets each driver pick (its number of cores). */
  workers?: number;
  demo: boolean;
  orchestratorPort: number;
  targetPort: number;
  kafkaPort: number;
  /** Set when KAFKA_BROKERS names a cluster: start no broker. */
  externalBrokers?: string[];
  topicPrefix: string;
  /** The orchestrator's data dir; undefined keeps its default. */
  dataDir?: string;
}

/** Usage text. */
export const UP_USAGE = `Usage: deno task up [--drivers N] [--brokers N] [--demo] [options]

Starts a whole local surge cluster in the foreground: Kafka (unless KAFKA_BROKERS is set), the
target on 127.0.0.1:8080, the orchestrator with its dashboard on 127.0.0.1:8000 and N
drivers named one, two, three, ... Ctrl-C stops everything.
  --drivers N         number of drivers (default 2, at most 20)
  --brokers N         Kafka nodes (default 1, at most ${MAX_LOCAL_NODES}): with 3, topics are replicated 3
                      times and survive losing one node (as 'deno task kafka --nodes 3')
  --workers N         load workers per driver (default: the number of cores)
  --demo              then run a short Avalanche and a short Tsunami test and print their results
  --port N            orchestrator and dashboard port (default 8000)
  --target-port N     target port (default 8080)
  --kafka-port N      port of the (first) local Kafka node (default 9092; KAFKA_PORT); node i
                      uses kafka-port + 2(i-1) for clients and the port after it for KRaft
  --data-dir DIR      the orchestrator's data dir (default .data/orchestrator); the API token it
                      generates on its first start is kept there, in api_token
Environment: KAFKA_BROKERS (use that cluster, start no broker), SURGE_TOPIC_PREFIX,
SURGE_API_TOKEN (the API token to use instead of the generated one); with KAFKA_BROKERS,
KAFKA_SSL* and KAFKA_SASL* too (every component then connects as that one user).
'deno task demo' is 'deno task up --demo'.`;

const schema = z.object({
  drivers: wholeNumberText(1, 20),
  brokers: wholeNumberText(1, MAX_LOCAL_NODES),
  workers: wholeNumberText(1, 256).optional(),
  orchestratorPort: portText,
  targetPort: portText,
  kafkaPort: portText,
  externalBrokers: brokersText.optional(),
  topicPrefix: topicPrefixText,
  access: kafkaAccessSchema,
  dataDir: z.string().optional(),
}).superRefine((c, ctx) => {
  // The broker `up` starts is plaintext: TLS or SASL settings could only make every child fail.
  if (!c.externalBrokers && usesAccess(c.access)) {
    ctx.addIssue({
      code: "custom",
      message: "KAFKA_SSL and KAFKA_SASL settings need KAFKA_BROKERS: the broker up starts is " +
        "plaintext (start a SASL one with `deno task kafka --sasl` and set KAFKA_BROKERS)",
    });
  }
  if (c.externalBrokers && c.brokers > 1) {
    ctx.addIssue({
      code: "custom",
      message: "--brokers starts Kafka nodes, but KAFKA_BROKERS names a cluster to use instead",
    });
  }
  const ports: [string, number][] = [["--port", c.orchestratorPort], [
    "--target-port",
    c.targetPort,
  ]];
  if (!c.externalBrokers) {
    for (let i = 0; i < 2 * c.brokers; i++) {
      ports.push([i === 0 ? "--kafka-port" : `--kafka-port + ${i}`, c.kafkaPort + i]);
    }
  }
  ports.forEach(([name, port], i) => {
    for (const [other, otherPort] of ports.slice(i + 1)) {
      if (port === otherPort) {
        ctx.addIssue({ code: "custom", message: `${name} and ${other} are both ${port}` });
      }
    }
  });
});

/** Parses flags and env; throws a UsageError listing every problem at once. */
export function parseUpConfig(env: Env, args: readonly string[]): UpConfig | Help {
  const { help, values, problems } = readArgs(args, {
    drivers: { type: "string" },
    brokers: { type: "string" },
    workers: { type: "string" },
    demo: { type: "boolean" },
    port: { type: "string" },
    "target-port": { type: "string" },
    "kafka-port": { type: "string" },
    "data-dir": { type: "string" },
  });
  if (help) return HELP;
  const kafka = kafkaEnv(env, { startsBroker: true });
  const config = validate(schema, {
    drivers: flag("drivers", values.drivers, "2"),
    brokers: flag("brokers", values.brokers, "1"),
    workers: flag("workers", values.workers),
    orchestratorPort: flag("port", values.port, "8000"),
    targetPort: flag("target-port", values["target-port"], "8080"),
    kafkaPort: flagOrEnv("kafka-port", values["kafka-port"], env, "KAFKA_PORT", "9092"),
    externalBrokers: kafka.brokers,
    topicPrefix: kafka.topicPrefix,
    access: kafka.access,
    dataDir: flag("data-dir", values["data-dir"]),
  }, problems);
  // The children read the access settings from the environment they inherit.
  const { access: _checked, ...rest } = config;
  return { ...rest, demo: values.demo === true };
}
