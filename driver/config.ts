/**
 * The driver's configuration, a pure function of environment, arguments and the core count.
 * Two modes: a Kafka driver node (`deno task driver <node_id>`) and a local run of the same engine
 * without Kafka (`deno task driver --local <url>`). Every problem is reported at once.
 */
import { parseArgs } from "node:util";
import { parseIntIn, parseKafkaEnv, parseNumberIn } from "../shared/config.ts";
import { type LogLevel, parseLogLevel } from "../shared/log.ts";
import { HTTP_METHODS } from "../shared/messages.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/** A Kafka driver node. */
export interface NodeConfig {
  mode: "node";
  nodeId: string;
  brokers: string[];
  topicPrefix: string;
  workers: number;
  heartbeatMs: number;
  reportMs: number;
  logLevel: LogLevel;
}

/** A one-off local run. */
export interface LocalConfig {
  mode: "local";
  testType: "AVALANCHE" | "TSUNAMI";
  spec: LoadSpec;
  workers: number;
  reportMs: number;
  json: boolean;
}

/** What `deno task driver` was asked to do. */
export type DriverConfig = NodeConfig | LocalConfig | { mode: "help" };

/** Usage text for `deno task driver`. */
export const DRIVER_USAGE = `Usage:
  deno task driver <node_id> [--workers N] [--heartbeat-ms N] [--report-ms N]
      Runs a driver node: registers on Kafka (KAFKA_BROKERS, default 127.0.0.1:9092; topic
      prefix SURGE_TOPIC_PREFIX), heartbeats, and runs the tests the orchestrator triggers.
  deno task driver --local <url> [options]
      Runs one test against <url> with the same engine, no Kafka, and prints a summary.

Local options:
  --type avalanche|tsunami  avalanche: back to back, or --rate R per second (default)
                            tsunami: one request every --delay MS on a fixed timetable
  --connections N           keep-alive connections (default 10)
  --count N                 stop after N requests are answered or failed
  --duration S              stop after S seconds (default 10 when --count is not given)
  --rate R                  avalanche: R requests per second (open model)
  --delay MS                tsunami: milliseconds between requests
  --timeout MS              per-request timeout (default 10000)
  --method M  --header "Name: value" (repeatable)  --body TEXT
  --json                    print one JSON line instead of the human summary
Both modes:
  --workers N               load workers (default: the number of cores)
  --report-ms N             metrics interval (default 1000)`;

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Values = Record<string, string | boolean | string[] | undefined>;

const OPTIONS = {
  local: { type: "string" },
  type: { type: "string" },
  connections: { type: "string" },
  count: { type: "string" },
  duration: { type: "string" },
  rate: { type: "string" },
  delay: { type: "string" },
  timeout: { type: "string" },
  method: { type: "string" },
  header: { type: "string", multiple: true },
  body: { type: "string" },
  json: { type: "boolean" },
  workers: { type: "string" },
  "heartbeat-ms": { type: "string" },
  "report-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const LOCAL_ONLY = [
  "type",
  "connections",
  "count",
  "duration",
  "rate",
  "delay",
  "timeout",
  "method",
  "header",
  "body",
  "json",
] as const;

/** Parses flags and env; throws RangeError listing every problem at once. */
export function parseDriverConfig(
  env: Record<string, string | undefined>,
  args: string[],
  cores: number,
): DriverConfig {
  const problems: string[] = [];
  let values: Values = {};
  let positionals: string[] = [];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    // Nothing after a flag that does not parse can be trusted, so this one problem is the report.
    throw new RangeError((err as Error).message);
  }
  if (values.help === true) return { mode: "help" };
  const str = (name: string) => values[name] as string | undefined;
  const workers = str("workers") === undefined
    ? Math.max(1, Math.min(1024, Math.floor(cores) || 1))
    : parseIntIn(str("workers")!, "--workers", 1, 1024, problems);
  const reportMs = parseIntIn(str("report-ms") ?? "1000", "--report-ms", 100, 60_000, problems);

  if (str("local") !== undefined) {
    if (positionals.length > 0) {
      problems.push(`unexpected argument "${positionals[0]}" in --local mode`);
    }
    if (str("heartbeat-ms") !== undefined) problems.push("--heartbeat-ms is for driver nodes");
    const local = parseLocal(values, workers, reportMs, problems);
    if (problems.length > 0) throw new RangeError(problems.join("\n"));
    return local;
  }

  for (const flag of LOCAL_ONLY) {
    if (values[flag] !== undefined) problems.push(`--${flag} is only for --local mode`);
  }
  const nodeId = positionals[0] ?? "";
  if (positionals.length === 0) problems.push("missing <node_id> (or --local <url>)");
  else if (!NODE_ID.test(nodeId)) {
    problems.push(
      `node id "${nodeId}" must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit`,
    );
  }
  if (positionals.length > 1) problems.push(`unexpected argument "${positionals[1]}"`);
  const { brokers, topicPrefix } = parseKafkaEnv(env, problems);
  const heartbeatMs = parseIntIn(
    str("heartbeat-ms") ?? "1000",
    "--heartbeat-ms",
    100,
    3_600_000,
    problems,
  );
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  return {
    mode: "node",
    nodeId,
    brokers,
    topicPrefix,
    workers,
    heartbeatMs,
    reportMs,
    logLevel: parseLogLevel(env.LOG_LEVEL),
  };
}

function parseLocal(
  values: Values,
  workers: number,
  reportMs: number,
  problems: string[],
): LocalConfig {
  const str = (name: string) => values[name] as string | undefined;
  const url = str("local")!;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TypeError();
  } catch {
    problems.push(`--local "${url}" must be an absolute http:// or https:// URL`);
  }
  const typeText = (str("type") ?? "avalanche").toLowerCase();
  if (typeText !== "avalanche" && typeText !== "tsunami") {
    problems.push(`--type must be avalanche or tsunami, got "${str("type")}"`);
  }
  const testType = typeText === "tsunami" ? "TSUNAMI" : "AVALANCHE";
  const connections = parseIntIn(str("connections") ?? "10", "--connections", 1, 100_000, problems);
  const count = str("count") === undefined
    ? 0
    : parseIntIn(str("count")!, "--count", 1, Number.MAX_SAFE_INTEGER, problems);
  const durationS = str("duration") === undefined
    ? (count === 0 ? 10 : null)
    : parseNumberIn(str("duration")!, "--duration", 0.001, 86_400, problems);
  const timeoutMs = parseIntIn(str("timeout") ?? "10000", "--timeout", 1, 600_000, problems);
  let intervalMs = 0;
  if (testType === "TSUNAMI") {
    if (str("delay") === undefined) problems.push("--type tsunami needs --delay MS (> 0)");
    else intervalMs = parseNumberIn(str("delay")!, "--delay", 0.001, 3_600_000, problems);
    if (str("rate") !== undefined) problems.push("--rate is for avalanche; tsunami uses --delay");
  } else {
    if (str("delay") !== undefined) problems.push("--delay is for --type tsunami");
    if (str("rate") !== undefined) {
      intervalMs = 1000 / parseNumberIn(str("rate")!, "--rate", 0.001, 10_000_000, problems);
    }
  }
  const method = (str("method") ?? "GET").toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method)) {
    problems.push(`--method must be one of ${HTTP_METHODS.join(", ")}, got "${str("method")}"`);
  }
  const headers: Record<string, string> = {};
  for (const line of (values.header as string[] | undefined) ?? []) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!match || /[\r\n\0]/.test(match[2]!)) {
      problems.push(`--header "${line}" must look like "Name: value"`);
    } else headers[match[1]!] = match[2]!;
  }
  return {
    mode: "local",
    testType,
    spec: {
      url,
      method,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(str("body") === undefined ? {} : { body: str("body") }),
      connections,
      count,
      durationMs: durationS === null ? null : durationS * 1000,
      intervalMs,
      timeoutMs,
    },
    workers,
    reportMs,
    json: values.json === true,
  };
}
