/**
 * The driver's configuration, a pure function of environment, arguments and the core count.
 * Two modes: a Kafka driver node (`deno task driver <node_id>`) and a local run of the same engine
 * without Kafka (`deno task driver --local <url>`), whose test flags are checked by the same
 * schema as `POST /api/tests` (shared/test_flags.ts). Every problem is reported at once.
 */
import { z } from "zod";
import {
  checkAll,
  type Env,
  flag,
  flagOrEnv,
  flagsNotFor,
  type FlagValues,
  readArgs,
  validate,
} from "../shared/cli_args.ts";
import { kafkaEnv, kafkaEnvShape, logLevelText, wholeNumberText } from "../shared/config.ts";
import { type FleetKey, fleetKeyEnv, fleetKeyText } from "../shared/fleet_key.ts";
import type { KafkaAccess } from "../shared/kafka_access.ts";
import type { LogLevel } from "../shared/log.ts";
import { nodeIdSchema } from "../shared/messages.ts";
import { REQUEST_FLAGS, TEST_FLAGS, testParamsFromFlags } from "../shared/test_flags.ts";
import { HELP, type Help } from "../shared/usage_error.ts";
import { advertiseIpText } from "./advertise_ip.ts";
import { loadSpecFromConfig } from "./metrics_message.ts";
import { parseTargetPolicy, type TargetPolicy } from "./target_policy.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/** A Kafka driver node. */
export interface NodeConfig {
  mode: "node";
  nodeId: string;
  brokers: string[];
  topicPrefix: string;
  /** TLS and SASL settings (KAFKA_SSL*, KAFKA_SASL*). */
  access: KafkaAccess;
  workers: number;
  heartbeatMs: number;
  reportMs: number;
  logLevel: LogLevel;
  /** Where tests may aim. */
  targets: TargetPolicy;
  /** With a key (SURGE_FLEET_KEY), only commands signed with it are obeyed. */
  fleetKey?: FleetKey;
  /**
   * The address to register (`--advertise-ip`, SURGE_ADVERTISE_IP); absent: the local address of
   * the route to the brokers (advertise_ip.ts).
   */
  advertiseIp?: string;
}

/** A one-off local run. */
export interface LocalConfig {
  mode: "local";
  testType: "AVALANCHE" | "TSUNAMI";
  spec: LoadSpec;
  workers: number;
  reportMs: number;
  json: boolean;
  /** Where the test may aim: the same policy as a node's. */
  targets: TargetPolicy;
}

/** What `deno task driver` was asked to do. */
export type DriverConfig = NodeConfig | LocalConfig;

/** Usage text for `deno task driver`. */
export const DRIVER_USAGE = `Usage:
  deno task driver <node_id> [--workers N] [--heartbeat-ms N] [--report-ms N]
                             [--advertise-ip IP]
      Runs a driver node: registers on Kafka (KAFKA_BROKERS, default 127.0.0.1:9092; topic
      prefix SURGE_TOPIC_PREFIX; TLS and SASL: KAFKA_SSL*, KAFKA_SASL*, see README "Kafka
      access"), heartbeats, and runs the tests the orchestrator triggers.
      --advertise-ip IP  the address to register, the one other hosts see this driver by
                         (default SURGE_ADVERTISE_IP, else the local address of the route to
                         the first broker that answers; else the first non-loopback IPv4)
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
  --report-ms N             metrics interval (default 500: the orchestrator is never more
                            than half a second behind)
  --allow-target ENTRY      where tests may aim (repeatable, or SURGE_ALLOW_TARGETS, comma-
                            separated): host, *.domain, IPv4/IPv6 address or CIDR, each with
                            an optional :port or :first-last ([v6]:port). Default: anything
                            but link-local and cloud metadata addresses (169.254.0.0/16,
                            fe80::/10, fd00:ec2::254), which only an entry inside them allows.
Environment of a node: KAFKA_BROKERS, SURGE_TOPIC_PREFIX, LOG_LEVEL, SURGE_ADVERTISE_IP, and
SURGE_FLEET_KEY (at least 32 characters): with it, only test configs and triggers signed with it
are obeyed.`;

const LOCAL_FLAGS = {
  local: { type: "string" },
  ...TEST_FLAGS,
  ...REQUEST_FLAGS,
  json: { type: "boolean" },
} as const;

const FLAGS = {
  ...LOCAL_FLAGS,
  workers: { type: "string" },
  "heartbeat-ms": { type: "string" },
  "advertise-ip": { type: "string" },
  "report-ms": { type: "string" },
  "allow-target": { type: "string", multiple: true },
} as const;

type Values = FlagValues<typeof FLAGS>;

/** `--allow-target` entries (or SURGE_ALLOW_TARGETS) → the policy; each bad entry named. */
const targetsText = z.array(z.string()).transform((texts, ctx) => {
  const policy = parseTargetPolicy(texts);
  if (!Array.isArray(policy)) return policy;
  for (const message of policy) ctx.addIssue({ code: "custom", message });
  return z.NEVER;
});

/** What both modes take. */
const bothSchema = z.object({
  workers: wholeNumberText(1, 1024),
  reportMs: wholeNumberText(100, 60_000),
  targets: targetsText,
});

const nodeSchema = z.object({
  nodeId: nodeIdSchema,
  ...kafkaEnvShape,
  heartbeatMs: wholeNumberText(100, 3_600_000),
  logLevel: logLevelText,
  fleetKey: fleetKeyText.optional(),
  advertiseIp: advertiseIpText.optional(),
});

/** The flag's entries if given, else the variable's. */
function targetsGiven(values: Values, env: Env) {
  const flags = values["allow-target"];
  if (flags !== undefined) return { name: "--allow-target", value: flags };
  const text = env.SURGE_ALLOW_TARGETS;
  return { name: "SURGE_ALLOW_TARGETS", value: text === undefined ? [] : [text] };
}

/** Parses flags and env; throws a UsageError listing every problem at once. */
export function parseDriverConfig(
  env: Env,
  args: readonly string[],
  cores: number,
): DriverConfig | Help {
  const { help, values, positionals, problems } = readArgs(args, FLAGS, { positionals: true });
  if (help) return HELP;
  const both = () =>
    validate(bothSchema, {
      workers: flag("workers", values.workers, String(Math.max(1, Math.min(1024, cores | 0)))),
      reportMs: flag("report-ms", values["report-ms"], "500"),
      targets: targetsGiven(values, env),
    });
  if (values.local !== undefined) {
    problems.push(...positionals.map((p) => `Unexpected argument '${p}' in --local mode`));
    problems.push(...flagsNotFor(values, ["heartbeat-ms", "advertise-ip"], "is for driver nodes"));
    const [common, params] = checkAll(
      problems,
      both,
      () =>
        testParamsFromFlags(values, flag("local", values.local), { count: "0", duration: "10" }),
    );
    return {
      mode: "local",
      testType: params.test_type,
      // The engine takes a validated test_config; a local run has no test id of its own.
      spec: loadSpecFromConfig({ test_id: "local", ...params }),
      ...common,
      json: values.json === true,
    };
  }
  problems.push(...flagsNotFor(values, Object.keys(LOCAL_FLAGS), "is only for --local mode"));
  problems.push(...positionals.slice(1).map((p) => `Unexpected argument '${p}'`));
  const [common, node] = checkAll(problems, both, () => parseNode(env, values, positionals[0]));
  return { mode: "node", ...node, ...common };
}

function parseNode(env: Env, values: Values, nodeId: string | undefined) {
  return validate(nodeSchema, {
    nodeId: {
      name: nodeId === undefined ? "<node_id> (or --local <url>)" : "<node_id>",
      value: nodeId,
    },
    ...kafkaEnv(env),
    heartbeatMs: flag("heartbeat-ms", values["heartbeat-ms"], "1000"),
    logLevel: { name: "LOG_LEVEL", value: env.LOG_LEVEL ?? "info" },
    fleetKey: fleetKeyEnv(env),
    // Blank counts as unset, as for KAFKA_BROKERS.
    advertiseIp: flagOrEnv(
      "advertise-ip",
      values["advertise-ip"],
      { SURGE_ADVERTISE_IP: env.SURGE_ADVERTISE_IP?.trim() || undefined },
      "SURGE_ADVERTISE_IP",
    ),
  });
}
