/**
 * `deno task kafka`: runs Kafka in the foreground with surge's topics, until Ctrl-C or SIGTERM —
 * a single node on loopback, a `--nodes N` cluster on this machine, or one node of a cluster
 * spread over hosts (`--node-id`); with `--sasl`, with SCRAM users and ACLs. With KAFKA_BROKERS
 * set, only creates the topics (and with `--sasl` their ACLs) on that cluster.
 */
import { applyAcls, surgeAclGrants } from "./acls.ts";
import { KAFKA_USAGE, type KafkaTaskConfig, parseKafkaConfig } from "./config.ts";
import { defaultPaths, ensureKafkaJars, KAFKA_VERSION, nodePaths } from "./jars.ts";
import { endpointText, type NodeLayout } from "./cluster_layout.ts";
import { type LocalCluster, startLocalCluster } from "./local_cluster.ts";
import { LOCAL_SASL_MECHANISM, SASL_USERS, type SaslUser } from "./sasl_users.ts";
import { lazyEnv } from "../shared/cli_args.ts";
import { isListening } from "../shared/probe.ts";
import { ensureTopics } from "../shared/ensure_topics.ts";
import { kafkaClientOptions } from "../shared/kafka_client_options.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { Kafka, logLevel } from "kafkajs";

const say = (line: string) => console.error(`[kafka] ${line}`);

async function main(): Promise<number> {
  const config = parseOrExit(
    "kafka",
    KAFKA_USAGE,
    () => parseKafkaConfig(lazyEnv((name) => Deno.env.get(name)), Deno.args),
  );
  if (config.fetchOnly) {
    const paths = defaultPaths(config.nodes[0]!.listen.port);
    const libs = await ensureKafkaJars(paths, KAFKA_VERSION, say);
    console.log(`Kafka ${KAFKA_VERSION} jars are in ${libs}`);
    return 0;
  }
  const topics = topicNames(config.topicPrefix);
  if (config.external) return await prepareExternal(config, config.external);
  for (const node of config.nodes) {
    for (const end of [node.listen, node.controller]) {
      const host = end.host === "0.0.0.0" || end.host === "[::]" ? "127.0.0.1" : end.host;
      if (await isListening(end.port, host.replace(/^\[|\]$/g, ""))) {
        say(
          `${endpointText(end)} is already in use (is a broker already running?). ` +
            "Use another --port or --listen.",
        );
        return 1;
      }
    }
  }
  const pathsOf = (node: NodeLayout) => {
    const paths = nodePaths(node.listen.port, config.nodes[0]!.voters.length);
    if (config.dataDir === undefined) return paths;
    const many = config.nodes.length > 1;
    return { ...paths, dataDir: many ? `${config.dataDir}/node-${node.nodeId}` : config.dataDir };
  };
  const started = Date.now();
  const cluster = await startLocalCluster({
    nodes: config.nodes,
    pathsOf,
    wipe: config.wipe,
    topicPrefix: config.topicPrefix,
    sasl: config.sasl,
    heap: config.nodes.length > 1 ? "512m" : undefined,
    log: say,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const secured = config.sasl ? " with SASL/SCRAM-SHA-512 and ACLs" : "";
  const voters = config.nodes[0]!.voters.length;
  const what = config.nodes.length > 1
    ? `a ${config.nodes.length}-node cluster`
    : voters > 1
    ? `node ${config.nodes[0]!.nodeId} of a ${voters}-node cluster`
    : "a single node";
  console.log(
    `Kafka ${KAFKA_VERSION} ready on ${cluster.brokers.join(",")} (${what})${secured} in ` +
      `${seconds}s (topics: ${Object.values(topics).join(", ")}; data: ${
        config.nodes.map((n) => pathsOf(n).dataDir).join(", ")
      }; log: ${cluster.nodes.map((n) => n.logFile).join(", ")}). Ctrl-C stops it.`,
  );
  if (cluster.passwordFiles) console.log(connectLines(cluster, cluster.passwordFiles));
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    say("stopping...");
    cluster.stop().then(() => {
      say("stopped");
      Deno.exit(0);
    });
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  // A node of a local cluster may die (or be killed to watch the others take over): the rest
  // keep serving, and the task ends with the last one.
  cluster.onNodeExit((nodeId, code) => {
    if (!stopping) say(`node ${nodeId} exited unexpectedly with code ${code}; see its broker.log`);
  });
  await cluster.exited;
  return stopping ? 0 : 1;
}

/**
 * With KAFKA_BROKERS: creates the topics there and, with --sasl, the ACLs of the orchestrator and
 * driver users, as the user KAFKA_SASL_* names (one that may create topics and ACLs).
 */
async function prepareExternal(config: KafkaTaskConfig, brokers: string[]): Promise<number> {
  const access = parseOrExit(
    "kafka",
    KAFKA_USAGE,
    () => kafkaClientOptions(config.access, Deno.readTextFileSync),
  );
  const kafka = new Kafka({ ...access, brokers, logLevel: logLevel.NOTHING });
  await ensureTopics(kafka.admin(), topicNames(config.topicPrefix));
  if (config.sasl) await applyAcls(kafka.admin(), surgeAclGrants(config.topicPrefix));
  const what = config.sasl ? "surge's topics and their ACLs" : "surge's topics";
  console.log(`Kafka at ${brokers.join(",")} (KAFKA_BROKERS) has ${what}; not starting a broker.`);
  return 0;
}

/** Who connects as which user, as environment lines; the passwords stay in their files. */
function connectLines(cluster: LocalCluster, files: Record<SaslUser, string>): string {
  const roles: Record<SaslUser, string> = {
    orchestrator: "the orchestrator and `deno task end`",
    driver: "drivers",
    admin: "admin (topics, ACLs; everything)",
  };
  const lines = SASL_USERS.map((user) =>
    `  ${roles[user]}:\n    KAFKA_BROKERS=${cluster.brokers.join(",")} ` +
    `KAFKA_SASL_MECHANISM=${LOCAL_SASL_MECHANISM} KAFKA_SASL_USERNAME=${user} ` +
    `KAFKA_SASL_PASSWORD_FILE=${files[user]}`
  );
  return ["Connect with (each password is in its file, readable by you only):", ...lines].join(
    "\n",
  );
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    say((err as Error).message);
    Deno.exit(1);
  }
}
