/**
 * The orchestrator's and `deno task end`'s configuration: pure functions of environment and
 * arguments that report every problem at once in one UsageError.
 */
import { z } from "zod";
import { type Env, flag, flagOrEnv, readArgs, validate } from "../shared/cli_args.ts";
import {
  baseUrlText,
  kafkaEnv,
  kafkaEnvShape,
  logLevelText,
  numberText,
  wholeNumberText,
} from "../shared/config.ts";
import { fleetKeyEnv, fleetKeyText } from "../shared/fleet_key.ts";
import { HELP, type Help } from "../shared/usage_error.ts";

const serveSchema = z.object({
  /** 0 picks a free port; the URL actually used is printed at start-up. */
  port: wholeNumberText(0, 65535),
  ...kafkaEnvShape,
  dataDir: z.string().refine((dir) => dir.trim() !== "", "must not be empty"),
  heartbeatMs: wholeNumberText(100, 3_600_000),
  lostAfter: wholeNumberText(1, 1000),
  /** Settled tests beyond the newest this many are deleted; 0 keeps every test. */
  retain: wholeNumberText(0, 1_000_000_000),
  /** Settled tests created more than this many days ago are deleted; 0: no age limit. */
  retainDays: numberText(0, 36_500),
  logLevel: logLevelText,
  logJson: z.boolean(),
  /** SURGE_FLEET_KEY: commands go out signed, and only signed ones are mirrored. */
  fleetKey: fleetKeyText.optional(),
});

/** Everything `orchestrator/main.ts` needs to start. */
export type OrchestratorConfig = z.output<typeof serveSchema>;

/** Usage text for `deno task orchestrator`. */
export const ORCHESTRATOR_USAGE = `Usage: deno task orchestrator [options]
  --port N          HTTP port on 127.0.0.1 (default PORT or 8000; 0 picks a free one)
  --data-dir DIR    where tests and results are stored (default SURGE_DATA_DIR or .data/orchestrator)
  --heartbeat-ms N  heartbeat interval assumed for drivers that do not announce one (default 1000)
  --lost-after N    missed heartbeat intervals before a driver is lost (default 3)
  --retain N        keep the newest N tests, deleting older settled ones (default SURGE_RETAIN
                    or 1000; 0 keeps every test)
  --retain-days D   delete settled tests created more than D days ago (default SURGE_RETAIN_DAYS
                    or 0: no age limit)
  --log-json        JSON log lines
Environment: KAFKA_BROKERS (default 127.0.0.1:9092), SURGE_TOPIC_PREFIX, LOG_LEVEL; TLS and SASL
to Kafka: KAFKA_SSL*, KAFKA_SASL* (README "Kafka access"); SURGE_FLEET_KEY (at least 32
characters): with it, every test_config and trigger is signed and only signed ones from other
orchestrators are mirrored.`;

const DEFAULT_PORT = "8000";

/** Parses the orchestrator's environment and flags; throws a UsageError listing every problem. */
export function parseOrchestratorConfig(
  env: Env,
  args: readonly string[],
): OrchestratorConfig | Help {
  const { help, values, problems } = readArgs(args, {
    port: { type: "string" },
    "data-dir": { type: "string" },
    "heartbeat-ms": { type: "string" },
    "lost-after": { type: "string" },
    retain: { type: "string" },
    "retain-days": { type: "string" },
    "log-json": { type: "boolean" },
  });
  if (help) return HELP;
  return validate(serveSchema, {
    port: flagOrEnv("port", values.port, env, "PORT", DEFAULT_PORT),
    ...kafkaEnv(env),
    dataDir: flagOrEnv("data-dir", values["data-dir"], env, "SURGE_DATA_DIR", ".data/orchestrator"),
    heartbeatMs: flag("heartbeat-ms", values["heartbeat-ms"], "1000"),
    lostAfter: flag("lost-after", values["lost-after"], "3"),
    retain: flagOrEnv("retain", values.retain, env, "SURGE_RETAIN", "1000"),
    retainDays: flagOrEnv("retain-days", values["retain-days"], env, "SURGE_RETAIN_DAYS", "0"),
    logLevel: { name: "LOG_LEVEL", value: env.LOG_LEVEL ?? "info" },
    logJson: flag("log-json", values["log-json"], false),
    fleetKey: fleetKeyEnv(env),
  }, problems);
}

const endSchema = z.object({
  orchestratorUrl: baseUrlText,
  ...kafkaEnvShape,
  /** How long to wait for the drivers to go quiet and the orchestrator to stop. */
  timeoutMs: wholeNumberText(100, 600_000),
  /** Signs the END published straight to Kafka when no orchestrator answers. */
  fleetKey: fleetKeyText.optional(),
});

/** What `deno task end` needs. */
export type EndConfig = z.output<typeof endSchema>;

/** Usage text for `deno task end`. */
export const END_USAGE = `Usage: deno task end [--orchestrator URL] [--timeout-ms N]
  Tells every driver to finish and exit (trigger END), waits for them to go quiet, then stops the
  orchestrator. Without a reachable orchestrator, END is published to Kafka directly.
  --orchestrator URL  default http://127.0.0.1:PORT (PORT or 8000)
  --timeout-ms N      default 15000
Environment: KAFKA_BROKERS (default 127.0.0.1:9092), SURGE_TOPIC_PREFIX; TLS and SASL to Kafka:
KAFKA_SSL*, KAFKA_SASL* (README "Kafka access"; END is a trigger: the orchestrator's user); and
SURGE_FLEET_KEY (signs the END sent through Kafka; drivers with a key refuse an unsigned one).`;

/** Parses `deno task end`'s environment and flags; throws a UsageError listing every problem. */
export function parseEndConfig(env: Env, args: readonly string[]): EndConfig | Help {
  const { help, values, problems } = readArgs(args, {
    orchestrator: { type: "string" },
    "timeout-ms": { type: "string" },
  });
  if (help) return HELP;
  const url = `http://127.0.0.1:${env.PORT ?? DEFAULT_PORT}`;
  return validate(endSchema, {
    orchestratorUrl: flag("orchestrator", values.orchestrator, url),
    ...kafkaEnv(env),
    timeoutMs: flag("timeout-ms", values["timeout-ms"], "15000"),
    fleetKey: fleetKeyEnv(env),
  }, problems);
}
