/**
 * `deno task up`: a whole local cluster in one terminal. Starts, in order, Kafka (unless
 * KAFKA_BROKERS is set or a broker already listens on the port), the target, the orchestrator
 * and N drivers, waits until every driver is alive, prints the dashboard's URL and the API token,
 * and on Ctrl-C or SIGTERM stops everything (the broker's JVM included) before exiting.
 */
import denoJson from "../deno.json" with { type: "json" };
import { createApiClient } from "../cli/api_client.ts";
import { nodePaths } from "../kafka/jars.ts";
import { type LocalCluster, startLocalCluster } from "../kafka/local_cluster.ts";
import { clientDataDir, DEFAULT_DATA_DIR, findClientToken } from "../shared/api_token.ts";
import { pollUntil } from "../shared/async.ts";
import { httpOk, isListening } from "../shared/probe.ts";
import { type Child, ProcessGroup } from "../shared/process.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { parseUpConfig, UP_USAGE, type UpConfig } from "./config.ts";
import { runDemo } from "./demo.ts";
import { buildPlan, type ProcessSpec } from "./plan.ts";
import { prefixOf } from "./prefix.ts";
import { localClusterLayout } from "../kafka/cluster_layout.ts";

const encoder = new TextEncoder();
const write = (text: string) => {
  try {
    Deno.stdout.writeSync(encoder.encode(text));
  } catch { /* a closed stdout must not stop the shutdown */ }
};
const say = (text: string) => write(`${text}\n`);

/** The repository root: every child runs there, so a relative data dir is relative to it. */
const ROOT = new URL("..", import.meta.url).pathname;

/** The reason of the abort on Ctrl-C or SIGTERM: not an error, the cluster just stops. */
class Interrupted extends Error {}

/** The orchestrator's REST client. */
type Api = ReturnType<typeof createApiClient>;

/** What `up` has started so far, so that the shutdown stops exactly that. */
interface Cluster {
  children: ProcessGroup;
  /** The Kafka nodes `up` started itself, if it did. */
  broker?: LocalCluster;
  /** The prefix of a child's output lines; Kafka is child 0. */
  prefix(name: string, index: number): string;
}

async function main(): Promise<number> {
  const config = parseOrExit(
    "up",
    UP_USAGE,
    () => parseUpConfig(Deno.env.toObject(), Deno.args),
  );
  const interrupt = new AbortController();
  const onSignal = () => {
    if (!interrupt.signal.aborted) say("\nup: stopping the cluster...");
    interrupt.abort(new Interrupted());
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const color = Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined;
  const plan0 = ["kafka", "target", "orchestrator", "twenty"];
  const width = Math.max(...plan0.map((n) => n.length));
  const cluster: Cluster = {
    children: new ProcessGroup(),
    prefix: (name, index) => prefixOf(name, index, width, color),
  };
  try {
    return await run(config, cluster, interrupt.signal);
  } catch (err) {
    if (err instanceof Interrupted) return 0;
    say(`up: ${(err as Error).message}`);
    return 1;
  } finally {
    await shutdown(cluster);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

/**
 * The cluster's life, step by step, each step once the previous one is ready. Resolves with the
 * exit code once interrupted (0) or once a child died on its own (1); throws when a step fails.
 */
async function run(config: UpConfig, cluster: Cluster, signal: AbortSignal): Promise<number> {
  // 1. Kafka.
  const brokers = await startKafka(config, cluster, signal);
  // 2. Target, orchestrator, drivers, each after the previous one is ready.
  await checkPortsFree(config);
  const drivers = await startChildren(config, brokers, cluster, signal);
  const token = await orchestratorToken(config);
  const api = createApiClient(`http://127.0.0.1:${config.orchestratorPort}`, { token });
  await waitAlive(api, drivers, signal);
  const target = `http://127.0.0.1:${config.targetPort}/ping`;
  printWelcome(config, drivers, target, token);
  if (config.demo) await demo(api, target, signal);
  // 3. Run until interrupted, or until a child dies on its own.
  return await runUntilStopped(cluster.children, signal);
}

/** Step 1: the brokers to use: KAFKA_BROKERS, a broker already listening, or one started here. */
async function startKafka(config: UpConfig, cluster: Cluster, signal: AbortSignal) {
  const kafkaPrefix = cluster.prefix("kafka", 0);
  if (config.externalBrokers) {
    const brokers = config.externalBrokers;
    say(`${kafkaPrefix}using KAFKA_BROKERS=${brokers.join(",")}; not starting a broker`);
    return brokers;
  }
  const nodes = localClusterLayout(config.kafkaPort, config.brokers);
  const addresses = nodes.map((n) => `127.0.0.1:${n.listen.port}`);
  const listening = await Promise.all(nodes.map((n) => isListening(n.listen.port)));
  if (listening.every(Boolean)) {
    say(`${kafkaPrefix}Kafka already listens on ${addresses.join(",")}; using it`);
    return addresses;
  }
  if (listening.some(Boolean)) {
    const busy = addresses.filter((_, i) => listening[i]).join(", ");
    throw new Error(
      `${busy} already in use, but not all of ${addresses.join(", ")}: ` +
        "stop what listens there or choose another --kafka-port",
    );
  }
  const what = nodes.length > 1 ? `a ${nodes.length}-node Kafka cluster` : "Kafka";
  say(
    `${kafkaPrefix}starting ${what} on ${
      addresses.join(",")
    } (the first run fetches its jars with Maven)...`,
  );
  const broker = await startLocalCluster({
    nodes,
    pathsOf: (node) => nodePaths(node.listen.port, nodes.length),
    topicPrefix: config.topicPrefix,
    heap: nodes.length > 1 ? "512m" : undefined,
    log: (line) => say(`${kafkaPrefix}${line}`),
  });
  cluster.broker = broker;
  const logs = broker.nodes.map((n) => n.logFile).join(", ");
  say(`${kafkaPrefix}ready on ${broker.brokers.join(",")} (log: ${logs})`);
  // Starting Kafka takes long enough to be interrupted; stop before starting anything else.
  signal.throwIfAborted();
  return broker.brokers;
}

/** A cluster already up would answer the readiness checks of ours: refuse its ports up front. */
async function checkPortsFree(config: UpConfig): Promise<void> {
  const ports = [[config.targetPort, "--target-port"], [
    config.orchestratorPort,
    "--port",
  ]] as const;
  for (const [port, flag] of ports) {
    if (await isListening(port)) {
      throw new Error(
        `127.0.0.1:${port} is already in use (is a cluster already up?); choose another with ${flag}`,
      );
    }
  }
}

/** Step 2: starts the plan's children in order; returns the node ids of the drivers. */
async function startChildren(
  config: UpConfig,
  brokers: string[],
  cluster: Cluster,
  signal: AbortSignal,
): Promise<string[]> {
  const tasks = denoJson.tasks as Record<string, string>;
  const plan: ProcessSpec[] = buildPlan(config, brokers, tasks, Deno.execPath());
  const drivers: string[] = [];
  for (const spec of plan) {
    const prefix = cluster.prefix(spec.name, cluster.children.children.length + 1);
    const child = cluster.children.spawn({ ...spec, cwd: ROOT, prefix, output: write });
    say(`up: started ${spec.name} (pid ${child.pid})`);
    if (spec.ready.kind === "http") await waitForHttp(child, spec.ready.url, signal);
    else drivers.push(spec.ready.nodeId);
  }
  return drivers;
}

/** Waits until `url` answers 2xx; fails at once when `child`, which should serve it, exits. */
async function waitForHttp(child: Child, url: string, signal: AbortSignal): Promise<void> {
  const what = `${child.name} to answer ${url}`;
  const outcome = await pollUntil(
    async () => child.done() ? "exited" : (await httpOk(url)) && "ready",
    { what, timeoutMs: 60_000, intervalMs: 200, signal },
  );
  if (outcome === "exited") {
    throw new Error(`${child.name} exited (code ${(await child.status).code}) before ${what}`);
  }
}

/** The orchestrator's data dir as its child process sees it (it inherits SURGE_DATA_DIR). */
function dataDirOf(config: UpConfig): string {
  return config.dataDir ?? clientDataDir(Deno.env.toObject());
}

/**
 * The orchestrator's API token, once it serves: SURGE_API_TOKEN (which the child inherits), else
 * the token file it created in its data dir.
 */
async function orchestratorToken(config: UpConfig): Promise<string> {
  const dir = dataDirOf(config);
  const token = await findClientToken(Deno.env.toObject(), dir.startsWith("/") ? dir : ROOT + dir);
  if (token === undefined) throw new Error(`the orchestrator wrote no API token into ${dir}`);
  return token;
}

/** Waits until the orchestrator lists every driver as alive. */
async function waitAlive(api: Api, drivers: string[], signal: AbortSignal): Promise<void> {
  await pollUntil(async () => {
    const alive = new Set(
      (await api.drivers()).filter((d) => d.status === "alive").map((d) => d.node_id),
    );
    return drivers.every((d) => alive.has(d));
  }, {
    what: `drivers ${drivers.join(", ")} to be alive`,
    timeoutMs: 90_000,
    intervalMs: 200,
    signal,
  });
}

/** Where to look and what to try, once everything is up. */
function printWelcome(config: UpConfig, drivers: string[], target: string, token: string): void {
  const base = `http://127.0.0.1:${config.orchestratorPort}`;
  const dir = dataDirOf(config);
  // loadtest, run from the repository, finds the token in the default data dir by itself.
  const env = dir === DEFAULT_DATA_DIR ? "" : `SURGE_DATA_DIR=${dir} `;
  const from = Deno.env.get("SURGE_API_TOKEN")?.trim() ? "SURGE_API_TOKEN" : `${dir}/api_token`;
  say([
    "",
    `surge is up: ${drivers.length} driver${drivers.length === 1 ? "" : "s"} alive (${
      drivers.join(", ")
    }).`,
    `  Dashboard:  ${base}/  (log in with the API token)`,
    `  API token:  ${token}  (from ${from})`,
    `  API docs:   ${base}/api/docs`,
    `  Target:     ${target}`,
    `  Try:        ${env}deno task loadtest --target ${target} --count 10000 ` +
    "--threshold 'p99<50ms'",
    "Ctrl-C stops everything.",
    "",
  ].join("\n"));
}

/** `--demo`: two short tests through the API; the cluster keeps running afterwards. */
async function demo(api: Api, target: string, signal: AbortSignal): Promise<void> {
  const ok = await runDemo(api, target, say, signal);
  say(
    ok
      ? "\nDemo done: both tests finished. The cluster keeps running; Ctrl-C stops it."
      : "\nDemo did not complete.",
  );
}

/** Step 3: resolves with 0 once interrupted, or with 1 once a child exits on its own. */
async function runUntilStopped(children: ProcessGroup, signal: AbortSignal): Promise<number> {
  const died = Promise.race(children.children.map((c) => c.status.then(() => c)));
  const stopped = new Promise<void>((resolve) => {
    // Ctrl-C during the demo aborts before we get here: an abort event would never come.
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const first = await Promise.race([died, stopped]);
  if (first && !signal.aborted) {
    const { code } = await first.status;
    say(`up: ${first.name} exited on its own (code ${code}); stopping the cluster`);
    return 1;
  }
  return 0;
}

/** Stops the children, newest first, then the broker if `up` started it. */
async function shutdown(cluster: Cluster): Promise<void> {
  await cluster.children.stopAll();
  if (cluster.broker) {
    say(`${cluster.prefix("kafka", 0)}stopping Kafka...`);
    await cluster.broker.stop();
  }
  say("up: everything stopped.");
}

if (import.meta.main) Deno.exit(await main());
