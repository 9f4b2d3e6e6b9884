/**
 * The orchestrator's and `deno task end`'s configuration: pure functions of environment and
 * arguments that report every problem at once in one RangeError.
 */
import { parseArgs } from "node:util";
import { parseIntIn, parseKafkaEnv } from "../shared/config.ts";
import { type LogLevel, parseLogLevel } from "../shared/log.ts";

/** Everything `orchestrator/main.ts` needs to start. */
export interface OrchestratorConfig {
  mode: "serve";
  /** 0 picks a free port; the URL actually used is printed at start-up. */
  port: number;
  brokers: string[];
  topicPrefix: string;
  dataDir: string;
  heartbeatMs: number;
  lostAfter: number;
  logLevel: LogLevel;
  logJson: boolean;
}

/** Usage text for `deno task orchestrator`. */
export const ORCHESTRATOR_USAGE = `Usage: deno task orchestrator [options]
  --port N          HTTP port on 127.0.0.1 (default PORT or 8000; 0 picks a free one)
  --data-dir DIR    where tests and results are stored (default SURGE_DATA_DIR or .data/orchestrator)
  --heartbeat-ms N  heartbeat interval assumed for drivers that do not announce one (default 1000)
  --lost-after N    missed heartbeat intervals before a driver is lost (default 3)
  --log-json        JSON log lines
Environment: KAFKA_BROKERS (default 127.0.0.1:9092), SURGE_TOPIC_PREFIX, LOG_LEVEL.`;

const DEFAULT_PORT = "8000";

type Flags = Record<string, string | boolean | undefined>;

function parseFlags(
  args: string[],
  options: Record<string, { type: "string" | "boolean"; short?: string }>,
): { values: Flags; str: (name: string) => string | undefined } {
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    const flags = values as Flags;
    return {
      values: flags,
      str: (name) => typeof flags[name] === "string" ? flags[name] as string : undefined,
    };
  } catch (err) {
    // A flag that does not parse makes the rest untrustworthy: report it alone.
    throw new RangeError((err as Error).message);
  }
}

/** Parses the orchestrator's environment and flags; throws RangeError listing every problem. */
export function parseOrchestratorConfig(
  env: Record<string, string | undefined>,
  args: string[],
): OrchestratorConfig | { mode: "help" } {
  const { values, str } = parseFlags(args, {
    port: { type: "string" },
    "data-dir": { type: "string" },
    "heartbeat-ms": { type: "string" },
    "lost-after": { type: "string" },
    "log-json": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return { mode: "help" };
  const problems: string[] = [];
  const portText = str("port") ?? env.PORT ?? DEFAULT_PORT;
  const port = parseIntIn(
    portText,
    str("port") !== undefined ? "--port" : "PORT",
    0,
    65535,
    problems,
  );
  const { brokers, topicPrefix } = parseKafkaEnv(env, problems);
  const dataDir = str("data-dir") ?? env.SURGE_DATA_DIR ??
    ".data/orchestrator";
  if (dataDir.trim() === "") problems.push("--data-dir must not be empty");
  const heartbeatMs = parseIntIn(
    str("heartbeat-ms") ?? "1000",
    "--heartbeat-ms",
    100,
    3_600_000,
    problems,
  );
  const lostAfter = parseIntIn(
    str("lost-after") ?? "3",
    "--lost-after",
    1,
    1000,
    problems,
  );
  if (env.LOG_LEVEL !== undefined && parseLogLevel(env.LOG_LEVEL) !== env.LOG_LEVEL) {
    problems.push(`LOG_LEVEL must be debug, info, warn or error, got "${env.LOG_LEVEL}"`);
  }
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  return {
    mode: "serve",
    port,
    brokers,
    topicPrefix,
    dataDir,
    heartbeatMs,
    lostAfter,
    logLevel: parseLogLevel(env.LOG_LEVEL),
    logJson: values["log-json"] === true,
  };
}

/** What `deno task end` needs. */
export interface EndConfig {
  mode: "end";
  orchestratorUrl: string;
  brokers: string[];
  topicPrefix: string;
  /** How long to wait for the drivers to go quiet and the orchestrator to stop. */
  timeoutMs: number;
}

/** Usage text for `deno task end`. */
export const END_USAGE = `Usage: deno task end [--orchestrator URL] [--timeout-ms N]
  Tells every driver to finish and exit (trigger END), waits for them to go quiet, then stops the
  orchestrator. Without a reachable orchestrator, END is published to Kafka directly.
  --orchestrator URL  default http://127.0.0.1:PORT (PORT or 8000)
  --timeout-ms N      default 15000
Environment: KAFKA_BROKERS (default 127.0.0.1:9092), SURGE_TOPIC_PREFIX.`;

/** Parses `deno task end`'s environment and flags. */
export function parseEndConfig(
  env: Record<string, string | undefined>,
  args: string[],
): EndConfig | { mode: "help" } {
  const { values, str } = parseFlags(args, {
    orchestrator: { type: "string" },
    "timeout-ms": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return { mode: "help" };
  const problems: string[] = [];
  const port = env.PORT ?? DEFAULT_PORT;
  const url = str("orchestrator") ?? `http://127.0.0.1:${port}`;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TypeError();
  } catch {
    problems.push(`--orchestrator "${url}" must be an http:// or https:// URL`);
  }
  const { brokers, topicPrefix } = parseKafkaEnv(env, problems);
  const timeoutMs = parseIntIn(
    str("timeout-ms") ?? "15000",
    "--timeout-ms",
    100,
    600_000,
    problems,
  );
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  return {
    mode: "end",
    orchestratorUrl: url.replace(/\/+$/, ""),
    brokers,
    topicPrefix,
    timeoutMs,
  };
}
