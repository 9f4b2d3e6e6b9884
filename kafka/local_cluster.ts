/**
 * Several KRaft nodes started by one process: a whole cluster on one machine (`deno task kafka
 * --nodes 3`, `deno task up --brokers 3`), or the single node of this host. The nodes start
 * together (a voter waits for a quorum), surge's topics and ACLs are created once every node is
 * a broker, and the cluster stops as one.
 */
import { Kafka, logLevel } from "kafkajs";
import { ensureTopics } from "../shared/ensure_topics.ts";
import type { KafkaClientAccess } from "../shared/kafka_client_options.ts";
import { topicNames } from "../shared/topics.ts";
import { applyAcls, surgeAclGrants } from "./acls.ts";
import { warmGroupCoordinator } from "./broker_ready.ts";
import type { NodeLayout } from "./cluster_layout.ts";
import { type BrokerPaths, exists } from "./jars.ts";
import { type LocalBroker, startLocalBroker, type StartOptions } from "./local_broker.ts";
import { type SaslUser, settlePasswords } from "./sasl_users.ts";

/** The nodes of one cluster that this process started. */
export interface LocalCluster {
  /** Every node's advertised client address, for KAFKA_BROKERS. */
  brokers: string[];
  nodes: LocalBroker[];
  /** How to reach it as its admin (SASL credentials on a SASL cluster). */
  access: KafkaClientAccess;
  /** On a SASL cluster: each user's password file (node 1's; every node has the same ones). */
  passwordFiles?: Record<SaslUser, string>;
  /** Resolves when the last node has exited, with the exit code of each (by node id). */
  exited: Promise<Map<number, number>>;
  /** Called when a node exits while others still run (a node killed to test failover). */
  onNodeExit(listener: (nodeId: number, code: number) => void): void;
  /** Stops every node (each gracefully, then forcibly after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Options for {@link startLocalCluster}: those of every node, and where each keeps its data. */
export interface ClusterOptions extends Omit<StartOptions, "node" | "paths" | "wipe"> {
  nodes: readonly NodeLayout[];
  pathsOf: (node: NodeLayout) => BrokerPaths;
  wipe?: boolean;
}

/**
 * Starts `nodes` together and resolves once all of them are brokers of one cluster with surge's
 * topics (and, with SASL, their ACLs). If any node fails to start, the others are stopped.
 */
export async function startLocalCluster(options: ClusterOptions): Promise<LocalCluster> {
  const { nodes, pathsOf, topicPrefix, ...common } = options;
  if (options.wipe) {
    for (const node of nodes) {
      await Deno.remove(pathsOf(node).dataDir, { recursive: true }).catch(() => {});
    }
  }
  const sasl = options.sasl && {
    passwords: await sharedPasswords(pathsOf(nodes[0]!).dataDir, options.sasl.passwords ?? {}),
  };
  // Several JVMs starting at once on a small machine take a while; a lone node keeps its 90 s.
  const readyTimeoutMs = options.readyTimeoutMs ??
    (nodes[0]!.voters.length > 1 ? 180_000 : undefined);
  const started = await Promise.allSettled(
    nodes.map((node) =>
      startLocalBroker({ ...common, readyTimeoutMs, sasl, node, paths: pathsOf(node) })
    ),
  );
  const running = started.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const stop = async (graceMs?: number) => {
    await Promise.all(running.map((b) => b.stop(graceMs)));
  };
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    await stop(5_000);
    throw failed.reason;
  }
  const first = running[0]!;
  const brokers = running.flatMap((b) => b.brokers);
  try {
    if (topicPrefix !== undefined) {
      const kafka = new Kafka({ ...first.access, brokers, logLevel: logLevel.NOTHING });
      await ensureTopics(kafka.admin(), topicNames(topicPrefix));
      if (sasl) await applyAcls(kafka.admin(), surgeAclGrants(topicPrefix));
      await warmGroupCoordinator(kafka.admin());
    }
  } catch (err) {
    await stop(5_000);
    throw err;
  }
  return {
    brokers,
    nodes: running,
    access: first.access,
    ...(first.passwordFiles && { passwordFiles: first.passwordFiles }),
    exited: Promise.all(running.map((b) => b.exited)).then((codes) =>
      new Map(codes.map((code, i) => [nodes[i]!.nodeId, code]))
    ),
    onNodeExit: (listener) => {
      running.forEach((b, i) => b.exited.then((code) => listener(nodes[i]!.nodeId, code)));
    },
    stop,
  };
}

/**
 * The users' passwords every node of the cluster is formatted with: those of the first node's
 * storage when it was formatted before (each node checks its own against them), else the given
 * ones and random ones for the rest.
 */
async function sharedPasswords(
  firstDataDir: string,
  given: Partial<Record<SaslUser, string>>,
): Promise<Record<SaslUser, string>> {
  const formatted = await exists(`${firstDataDir}/logs/meta.properties`);
  return await settlePasswords(firstDataDir, given, formatted);
}
