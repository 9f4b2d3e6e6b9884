/**
 * The orchestrator's and `deno task end`'s configuration: pure functions of environment and
 * arguments that report every problem at once in one UsageError.
 */
import { z } from "zod";
import { API_TOKEN_ENV, apiTokenText, DEFAULT_DATA_DIR } from "../shared/api_token.ts";
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
import { nodeIdSchema } from "../shared/messages.ts";
import { HELP, type Help } from "../shared/usage_error.ts";
import { isLoopback, parseHostPort } from "./served_hosts.ts";

/** `--host`: an IP address or a name to bind; IPv6 with or without brackets (`::1`, `[::1]`). */
const bindHostText = z.string().transform((text, ctx) => {
  const bare = text.trim();
  // Two colons or more without brackets: a bare IPv6 address (one is `name:port`, refused).
  const ipv6 = !bare.startsWith("[") && (bare.match(/:/g)?.length ?? 0) >= 2;
  const host = parseHostPort(ipv6 ? `[${bare}]` : bare);
  if (!host || host.port !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: "must be an IP address or a host name, without a port",
    });
    return z.NEVER;
  }
  return host.name;
});

/** `--public-host`: `NAME[:PORT]` entries, repeated or comma-separated. */
const publicHostsText = z.array(z.string()).transform((texts, ctx) =>
  texts.flatMap((t) => t.split(",")).map((t) => t.trim()).filter((t) => t !== "").map((t) => {
    const host = parseHostPort(t);
    if (!host) {
      ctx.addIssue({
        code: "custom",
        message: `has an invalid entry "${t}": expected NAME[:PORT]`,
      });
    }
    return host!;
  })
);

const serveSchema = z.object({
  /** 0 picks a free port; the URL actually used is printed at start-up. */
  port: wholeNumberText(0, 65535),
  /** The address to bind; anything but loopback needs {@link apiToken}. */
  host: bindHostText,
  /** More names the server answers for (`Host`, `Origin`): a deployment's DNS names. */
  publicHosts: publicHostsText,
  /** SURGE_API_TOKEN; without it the token file in the data dir is used (created if missing). */
  apiToken: apiTokenText.optional(),
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
}).superRefine((c, ctx) => {
  // A generated token file does not count: serving other hosts must be a deliberate choice, made
  // together with a token that was chosen and given to the clients.
  if (!isLoopback(c.host) && c.apiToken === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["host"],
      message:
        `${c.host} is not a loopback address: set ${API_TOKEN_ENV} (at least 16 characters) ` +
        "to the token clients must send; surge serves nothing beyond this machine without one",
    });
  }
});

/** Everything `orchestrator/main.ts` needs to start. */
export type OrchestratorConfig = z.output<typeof serveSchema>;

/** Usage text for `deno task orchestrator`. */
export const ORCHESTRATOR_USAGE = `Usage: deno task orchestrator [options]
  --port N          HTTP port (default PORT or 8000; 0 picks a free one)
  --host ADDR       address to listen on (default SURGE_HOST or 127.0.0.1); anything but
                    loopback needs SURGE_API_TOKEN
  --public-host NAME[:PORT]
                    another name clients reach the server by (a DNS name, a proxy's host);
                    repeatable or comma-separated (default SURGE_PUBLIC_HOST). Requests whose
                    Host is not the bind address, 127.0.0.1, localhost or one of these get 421
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
orchestrators are mirrored; SURGE_API_TOKEN (the API token; else the file api_token in the data
dir, made on first start).`;

const DEFAULT_PORT = "8000";

/** Parses the orchestrator's environment and flags; throws a UsageError listing every problem. */
export function parseOrchestratorConfig(
  env: Env,
  args: readonly string[],
): OrchestratorConfig | Help {
  const { help, values, problems } = readArgs(args, {
    port: { type: "string" },
    host: { type: "string" },
    "public-host": { type: "string", multiple: true },
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
    host: flagOrEnv("host", values.host, env, "SURGE_HOST", "127.0.0.1"),
    publicHosts: values["public-host"] !== undefined || env.SURGE_PUBLIC_HOST === undefined
      ? flag("public-host", values["public-host"], [])
      : { name: "SURGE_PUBLIC_HOST", value: [env.SURGE_PUBLIC_HOST] },
    // Blank counts as unset, as for KAFKA_BROKERS.
    apiToken: { name: API_TOKEN_ENV, value: env[API_TOKEN_ENV]?.trim() || undefined },
    ...kafkaEnv(env),
    dataDir: flagOrEnv("data-dir", values["data-dir"], env, "SURGE_DATA_DIR", DEFAULT_DATA_DIR),
    heartbeatMs: flag("heartbeat-ms", values["heartbeat-ms"], "1000"),
    lostAfter: flag("lost-after", values["lost-after"], "3"),
    retain: flagOrEnv("retain", values.retain, env, "SURGE_RETAIN", "1000"),
    retainDays: flagOrEnv("retain-days", values["retain-days"], env, "SURGE_RETAIN_DAYS", "0"),
    logLevel: { name: "LOG_LEVEL", value: env.LOG_LEVEL ?? "info" },
    logJson: flag("log-json", values["log-json"], false),
    fleetKey: fleetKeyEnv(env),
  }, problems);
}

/** `--driver` entries, repeated or comma-separated → the node ids, each checked. */
const driverNamesText = z.array(z.string()).transform((texts) =>
  texts.flatMap((t) => t.split(",")).map((t) => t.trim()).filter((t) => t !== "")
).pipe(
  z.array(nodeIdSchema).max(1000).refine((names) => names.length > 0, "needs a driver name"),
);

const endSchema = z.object({
  orchestratorUrl: baseUrlText,
  ...kafkaEnvShape,
  /** How long to wait for the drivers to go quiet and the orchestrator to stop. */
  timeoutMs: wholeNumberText(100, 600_000),
  /** Signs the END published straight to Kafka when no orchestrator answers. */
  fleetKey: fleetKeyText.optional(),
  /** Only these drivers (`--driver`): the orchestrator and the other drivers keep running. */
  drivers: driverNamesText.optional(),
});

/** What `deno task end` needs. */
export type EndConfig = z.output<typeof endSchema>;

/** Usage text for `deno task end`. */
export const END_USAGE =
  `Usage: deno task end [--driver NAME]... [--orchestrator URL] [--timeout-ms N]
  Tells every driver to finish and exit (trigger END), waits for them to go quiet, then stops the
  orchestrator. Without a reachable orchestrator, END is published to Kafka directly.
  --driver NAME       end only this driver (repeatable or comma-separated: --driver a,b), wait
                      until it has left, and keep the orchestrator and the other drivers running
  --orchestrator URL  default http://127.0.0.1:PORT (PORT or 8000)
  --timeout-ms N      default 15000
Environment: KAFKA_BROKERS (default 127.0.0.1:9092), SURGE_TOPIC_PREFIX; TLS and SASL to Kafka:
KAFKA_SSL*, KAFKA_SASL* (README "Kafka access"; END is a trigger: the orchestrator's user);
SURGE_FLEET_KEY (signs the END sent through Kafka; drivers with a key refuse an unsigned one);
SURGE_API_TOKEN, else the api_token file in SURGE_DATA_DIR (default .data/orchestrator).`;

/** Parses `deno task end`'s environment and flags; throws a UsageError listing every problem. */
export function parseEndConfig(env: Env, args: readonly string[]): EndConfig | Help {
  const { help, values, problems } = readArgs(args, {
    orchestrator: { type: "string" },
    "timeout-ms": { type: "string" },
    driver: { type: "string", multiple: true },
  });
  if (help) return HELP;
  const url = `http://127.0.0.1:${env.PORT ?? DEFAULT_PORT}`;
  return validate(endSchema, {
    orchestratorUrl: flag("orchestrator", values.orchestrator, url),
    ...kafkaEnv(env),
    timeoutMs: flag("timeout-ms", values["timeout-ms"], "15000"),
    fleetKey: fleetKeyEnv(env),
    drivers: flag("driver", values.driver),
  }, problems);
}
