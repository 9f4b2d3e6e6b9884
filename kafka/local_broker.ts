/**
 * One KRaft Apache Kafka node (broker and controller) for development, tests and real hosts,
 * built from jars that Maven resolves from Maven Central (no Docker, no tarball): alone on
 * loopback, or one voter of a cluster (kafka/cluster_layout.ts; kafka/local_cluster.ts starts a
 * whole one on one machine). Used by `deno task kafka`, `deno task test` and `deno task up`.
 * Functions here take every path and address as arguments; only the callers decide them.
 */
import { ensureTopics } from "../shared/ensure_topics.ts";
import { canBind } from "../shared/probe.ts";
import { killQuietly, stopWithGrace } from "../shared/process.ts";
import type { KafkaClientAccess } from "../shared/kafka_client_options.ts";
import { topicNames } from "../shared/topics.ts";
import { Kafka, logLevel } from "kafkajs";
import { applyAcls, surgeAclGrants } from "./acls.ts";
import { brokerProperties } from "./broker_properties.ts";
import { waitForKafka, warmGroupCoordinator } from "./broker_ready.ts";
import { clusterIdFor, endpointText, type NodeLayout } from "./cluster_layout.ts";
import {
  type BrokerPaths,
  ensureKafkaJars,
  exists,
  KAFKA_DIR,
  KAFKA_VERSION,
  requireTool,
} from "./jars.ts";
import {
  addScramArgs,
  LOCAL_SASL_MECHANISM,
  passwordFile,
  SASL_USERS,
  type SaslUser,
  settlePasswords,
} from "./sasl_users.ts";

/**
 * A random KRaft cluster id: 16 bytes in URL-safe base64. Like Kafka's own Uuid.randomUuid() it
 * never starts with "-", which the storage tool's argument parser would take for an option.
 */
export function randomClusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .slice(0, 22);
    if (!id.startsWith("-")) return id;
  }
}

/** A broker process this code started. */
export interface LocalBroker {
  brokers: string[];
  logFile: string;
  /** How to reach it as its admin: SASL credentials on a SASL broker, nothing otherwise. */
  access: KafkaClientAccess;
  /** On a SASL broker: where each user's password is kept (KAFKA_SASL_PASSWORD_FILE). */
  passwordFiles?: Record<SaslUser, string>;
  /** Resolves when the JVM exits, with its exit code. */
  exited: Promise<number>;
  /** Stops the JVM gracefully (SIGTERM), then forcibly after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Options for {@link startLocalBroker}. */
export interface StartOptions {
  /** Where the node listens, what it advertises, and its cluster's voters. */
  node: NodeLayout;
  paths: BrokerPaths;
  /** Delete the data directory first. */
  wipe?: boolean;
  version?: string;
  heap?: string;
  log?: (line: string) => void;
  /**
   * Create surge's topics with this prefix once every voter of the cluster is a broker (and
   * their ACLs, with SASL).
   */
  topicPrefix?: string;
  /**
   * Authenticate every client with SCRAM (users admin, orchestrator, driver; kafka/sasl_users.ts)
   * and authorize it by ACLs (kafka/acls.ts). Passwords not given are drawn on the first start.
   */
  sasl?: { passwords?: Partial<Record<SaslUser, string>> };
  readyTimeoutMs?: number;
}

/** How every Java process here runs: Kafka's jars and surge's log4j2 configuration. */
interface JavaSetup {
  classpath: string;
  log4j: string;
}

/**
 * Starts a node and resolves once it accepts clients, every voter of its cluster is a broker and
 * the topics exist. The JVM runs under a tiny shell guard that kills it when our stdin closes, so
 * even a SIGKILLed parent leaves no orphan JVM behind.
 */
export async function startLocalBroker(options: StartOptions): Promise<LocalBroker> {
  requirePortsFree(options.node);
  await requireTool("java");
  const log = options.log ?? (() => {});
  const libs = await ensureKafkaJars(options.paths, options.version ?? KAFKA_VERSION, log);
  const java: JavaSetup = {
    classpath: `${libs}/*`,
    log4j: `-Dlog4j2.configurationFile=${KAFKA_DIR}log4j2.properties`,
  };
  const { config, passwords } = await prepareStorage(options, java);
  const access: KafkaClientAccess = passwords
    ? { sasl: { mechanism: LOCAL_SASL_MECHANISM, username: "admin", password: passwords.admin } }
    : {};
  const broker = await spawnGuarded(options, java, config, access);
  try {
    await waitReady(broker, options.node.voters.length, options.readyTimeoutMs ?? 90_000);
    const kafka = new Kafka({ ...access, brokers: broker.brokers, logLevel: logLevel.NOTHING });
    if (options.topicPrefix !== undefined) {
      await ensureTopics(kafka.admin(), topicNames(options.topicPrefix));
      if (passwords) await applyAcls(kafka.admin(), surgeAclGrants(options.topicPrefix));
    }
    await warmGroupCoordinator(kafka.admin());
  } catch (err) {
    await broker.stop(5_000);
    throw err;
  }
  return broker;
}

/** Both listeners must be free before a JVM is started only to fail on one of them. */
function requirePortsFree(node: NodeLayout): void {
  for (const [what, end] of [["client", node.listen], ["controller", node.controller]] as const) {
    if (!canBind(end.port, end.host.replace(/^\[|\]$/g, ""))) {
      throw new Error(
        `Kafka's ${what} address ${endpointText(end)} is in use or not this host's: ` +
          "choose another port or address",
      );
    }
  }
}

/**
 * Writes server.properties under the data dir (wiped first when asked) and formats the KRaft
 * storage unless an earlier run did, with the SASL users when asked; returns the properties
 * file's path and, with SASL, the users' passwords. The properties then hold the admin's
 * password, so they are readable by their owner only.
 */
async function prepareStorage(
  options: StartOptions,
  java: JavaSetup,
): Promise<{ config: string; passwords?: Record<SaslUser, string> }> {
  const dataDir = options.paths.dataDir;
  if (options.wipe) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dataDir}/logs`, { recursive: true });
  // With SASL the data dir is the ACLs' to guard: its messages and passwords are nobody else's.
  if (options.sasl) await Deno.chmod(dataDir, 0o700);
  const formatted = await exists(`${dataDir}/logs/meta.properties`);
  const passwords = options.sasl
    ? await settlePasswords(dataDir, options.sasl.passwords ?? {}, formatted)
    : undefined;
  const config = `${dataDir}/server.properties`;
  const sasl = passwords && { adminPassword: passwords.admin };
  await Deno.writeTextFile(config, brokerProperties(options.node, `${dataDir}/logs`, sasl), {
    mode: 0o600,
  });
  await Deno.chmod(config, 0o600);
  if (formatted) return { config, passwords };
  const fmt = await new Deno.Command("java", {
    args: [
      java.log4j,
      "-cp",
      java.classpath,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      // Every voter must format with the same id; a lone node may take any.
      options.node.voters.length > 1 ? await clusterIdFor(options.node.voters) : randomClusterId(),
      "-c",
      config,
      ...(passwords ? addScramArgs(passwords) : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!fmt.success) {
    throw new Error(`Formatting KRaft storage failed:\n${new TextDecoder().decode(fmt.stderr)}`);
  }
  return { config, passwords };
}

/** Runs java in the background, prints its pid, and SIGTERMs it once its stdin closes. */
const GUARD = [
  // A background job's stdin is /dev/null in sh, so keep the real stdin on fd 3 for the watcher.
  "exec 3<&0",
  'java "$@" </dev/null 3<&- >>"$SURGE_KAFKA_LOG" 2>&1 & jpid=$!',
  'echo "$jpid"',
  // Our stdin is a pipe from the parent: EOF means the parent is gone or asked us to stop.
  "( cat <&3 >/dev/null; kill -TERM $jpid 2>/dev/null ) &",
  "exec 3<&-",
  'wait "$jpid"',
].join("\n");

/**
 * Starts kafka.Kafka under the {@link GUARD}. Stopping closes the guard's stdin, so the guard
 * SIGTERMs the JVM, and SIGKILLs the JVM itself if it is still there after the grace period.
 */
async function spawnGuarded(
  options: StartOptions,
  java: JavaSetup,
  config: string,
  access: KafkaClientAccess,
): Promise<LocalBroker> {
  const logFile = `${options.paths.dataDir}/broker.log`;
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      GUARD,
      "surge-kafka",
      `-Xms256m`,
      `-Xmx${options.heap ?? "1g"}`,
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      java.log4j,
      "-cp",
      java.classpath,
      "kafka.Kafka",
      config,
    ],
    env: { SURGE_KAFKA_LOG: logFile },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  await reader.cancel();
  const javaPid = Number(first.value?.trim());
  const exited = child.status.then((s) => s.code);
  let stopped = false;
  const stop = async (graceMs = 15_000) => {
    if (stopped) return void await exited;
    stopped = true;
    await stopWithGrace({
      exited,
      ask: () => stdin.close().catch(() => {}),
      force: () => {
        // Never signal pid 0 (our own process group) when the guard printed no pid.
        if (javaPid > 0) killQuietly(javaPid, "SIGKILL");
      },
      graceMs,
    });
  };
  const passwordFiles = access.sasl
    ? Object.fromEntries(SASL_USERS.map((u) => [u, passwordFile(options.paths.dataDir, u)]))
    : undefined;
  return {
    brokers: [endpointText(options.node.advertise)],
    access,
    ...(passwordFiles && { passwordFiles: passwordFiles as Record<SaslUser, string> }),
    logFile,
    exited,
    stop,
  };
}

/**
 * Waits until the node answers clients and its cluster has `brokers` brokers; fails at once,
 * pointing at its log, if it exits.
 */
async function waitReady(broker: LocalBroker, brokers: number, timeoutMs: number): Promise<void> {
  const died = broker.exited.then((code) => {
    throw new Error(`Kafka exited during start-up (code ${code}); see ${broker.logFile}`);
  });
  died.catch(() => {}); // only the race below cares; a later exit is the caller's business
  await Promise.race([waitForKafka(broker.brokers, timeoutMs, broker.access, brokers), died]);
}
