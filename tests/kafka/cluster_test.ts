/**
 * `deno task kafka --nodes 3` as a user runs it: three KRaft nodes on loopback form one cluster,
 * surge's topics are replicated on all three with min.insync.replicas 2 and the metrics topic is
 * partitioned; with one node SIGKILLed, acks=all sends still succeed and nothing acknowledged is
 * lost; SIGTERM stops every JVM.
 */
import assert from "node:assert/strict";
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { METRICS_PARTITIONS } from "../../shared/ensure_topics.ts";
import { KafkaBus } from "../../shared/kafka.ts";
import { installKafkajsFixes } from "../../shared/kafkajs_fixes.ts";
import { createLogger } from "../../shared/log.ts";
import { canBind } from "../../shared/probe.ts";
import { killQuietly } from "../../shared/process.ts";
import { TOPIC_KINDS, topicNames } from "../../shared/topics.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { taskCommand } from "../../up/plan.ts";
import { VALID } from "../shared/fixtures.ts";
import { uniquePrefix } from "../support/kafka.ts";
import { eventually, freePort, ProcessGroup } from "../support/processes.ts";

/** A base port with the 5 ports after it free too (3 nodes: client and controller each). */
function freePortRun(): number {
  for (;;) {
    const port = freePort();
    if (port + 5 > 65535) continue;
    if ([1, 2, 3, 4, 5].every((i) => canBind(port + i))) return port;
  }
}

/** PIDs of the JVMs running from `dataDir` (each node's server.properties lives in it). */
async function jvmsIn(dataDir: string): Promise<number[]> {
  const out = await new Deno.Command("pgrep", { args: ["-f", `^java .*${dataDir}/`] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((s) => s !== "").map(Number);
}

Deno.test({
  name: "a 3-node cluster: replicated topics, writes survive a SIGKILLed node, SIGTERM stops all",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    installKafkajsFixes();
    const port = freePortRun();
    const dataDir = await Deno.makeTempDir({ prefix: "surge-cluster-" });
    const prefix = uniquePrefix("cluster");
    const group = new ProcessGroup();
    const brokers = [0, 2, 4].map((i) => `127.0.0.1:${port + i}`);
    let bus: KafkaBus | undefined;
    try {
      // The task's own grant covers `.data`; this cluster keeps its data in a temp dir.
      const { args } = taskCommand(denoJson.tasks, "kafka", Deno.execPath(), [
        "--nodes",
        "3",
        "--port",
        String(port),
        "--data-dir",
        dataDir,
        "--prefix",
        prefix,
      ], [`--allow-read=${dataDir}`, `--allow-write=${dataDir}`]);
      // The suite runs with KAFKA_BROKERS set, which would tell the task to start nothing.
      const task = group.spawnDeno("kafka3", args, { KAFKA_BROKERS: "" });
      const [ready] = await task.waitForOutput(
        /Kafka \S+ ready on (\S+) \(a 3-node cluster\)/,
        180_000,
      );
      assert.ok(ready.includes(brokers.join(",")), ready);
      const topics = topicNames(prefix);

      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const names = [...TOPIC_KINDS.map((k) => topics[k]), topics.orchestrators];
        const { topics: described } = await admin.fetchTopicMetadata({ topics: names });
        for (const t of described) {
          const want = t.name === topics.metrics ? METRICS_PARTITIONS : 1;
          assert.equal(t.partitions.length, want, `${t.name} partitions`);
          for (const p of t.partitions) assert.equal(p.replicas.length, 3, `${t.name} replicas`);
        }
        const configs = await admin.describeConfigs({
          includeSynonyms: false,
          resources: names.map((name) => ({
            type: ConfigResourceTypes.TOPIC,
            name,
            configNames: ["min.insync.replicas"],
          })),
        });
        for (const r of configs.resources) {
          assert.equal(r.configEntries[0]?.configValue, "2", `${r.resourceName} min.insync`);
        }
      } finally {
        await admin.disconnect();
      }

      bus = new KafkaBus({
        brokers,
        clientId: "cluster-test",
        topics,
        logger: createLogger({ component: "cluster-test" }, { level: "error" }),
        // Its retries while the dead node is still the leader are expected, not news.
        kafkaLogLevel: logLevel.NOTHING,
      });
      const send = async (n: number, from: number) => {
        for (let i = from; i < from + n; i++) {
          const node_id = `node-${i}`;
          await bus!.publish(
            "metrics",
            { ...VALID.metrics, node_id, timestamp: Date.now() },
            node_id,
          );
        }
      };
      await send(30, 0);
      // One node dies without a word: its partitions' leadership moves to the other two.
      const victim = (await jvmsIn(`${dataDir}/node-2`))[0];
      assert.ok(victim, "node 2's JVM");
      killQuietly(victim, "SIGKILL");
      await eventually(
        "node 2's JVM to be gone",
        async () => (await jvmsIn(`${dataDir}/node-2`)).length === 0,
      );
      await send(30, 30);

      const seen = new Set<string>();
      await bus.subscribe({
        groupId: `cluster-read-${crypto.randomUUID()}`,
        kinds: ["metrics"],
        fromBeginning: true,
        onMessage: (d) => void (d.kind === "metrics" && seen.add(d.message.node_id)),
      });
      await eventually("all 60 reports", () => seen.size === 60, 60_000);
      await bus.close();
      bus = undefined;

      // The remaining nodes stop on SIGTERM, leaving no JVM behind.
      task.kill("SIGTERM");
      await eventually(
        "every JVM to be gone",
        async () => (await jvmsIn(dataDir)).length === 0,
        60_000,
      );
    } finally {
      await bus?.close().catch(() => {});
      await group.stopAll();
      for (const pid of await jvmsIn(dataDir)) killQuietly(pid, "SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
