/**
 * `deno task up`: a whole local cluster in one terminal. Starts, in order, Kafka (unless
 * KAFKA_BROKERS is set or a broker already listens on the port), the target, the orchestrator
 * and N drivers, waits until every driver is alive, prints the dashboard's URL, and on Ctrl-C or
 * SIGTERM stops everything (the broker's JVM included) before exiting.
 */
import denoJson from "../deno.json" with { type: "json" };
import { createApiClient } from "../cli/api_client.ts";
import { defaultPaths } from "../kafka/jars.ts";
import { isListening, type LocalBroker, startLocalBroker } from "../kafka/local_broker.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { parseUpConfig, UP_USAGE } from "./config.ts";
import { runDemo } from "./demo.ts";
import { buildPlan, type ProcessSpec } from "./plan.ts";
import { prefixOf } from "./prefix.ts";
import { type Child, Supervisor } from "./supervisor.ts";

const encoder = new TextEncoder();
const write = (text: string) => {
  try {
    Deno.stdout.writeSync(encoder.encode(text));
  } catch { /* a closed stdout must not stop the shutdown */ }
};
const say = (text: string) => write(`${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Interrupted extends Error {}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; signal: AbortSignal; child?: Child },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (true) {
    if (opts.signal.aborted) throw new Interrupted();
    if (opts.child?.done()) {
      throw new Error(`${opts.child.name} exited (code ${await opts.child.exited}) before ${what}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    }
    await sleep(200);
  }
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.ok;
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
    interrupt.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const color = Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined;
  const plan0 = ["kafka", "target", "orchestrator", "twenty"];
  const width = Math.max(...plan0.map((n) => n.length));
  const supervisor = new Supervisor(write, (name, i) => prefixOf(name, i + 1, width, color));
  const kafkaPrefix = prefixOf("kafka", 0, width, color);
  let broker: LocalBroker | undefined;
  let code = 0;
  try {
    // 1. Kafka.
    let brokers: string[];
    if (config.externalBrokers) {
      brokers = config.externalBrokers;
      say(`${kafkaPrefix}using KAFKA_BROKERS=${brokers.join(",")}; not starting a broker`);
    } else if (await isListening(config.kafkaPort)) {
      brokers = [`127.0.0.1:${config.kafkaPort}`];
      say(`${kafkaPrefix}a broker already listens on ${brokers[0]}; using it`);
    } else {
      say(
        `${kafkaPrefix}starting Kafka on 127.0.0.1:${config.kafkaPort} (the first run fetches its jars with Maven)...`,
      );
      const starting = startLocalBroker({
        port: config.kafkaPort,
        controllerPort: config.kafkaPort + 1,
        paths: defaultPaths(config.kafkaPort),
        topics: topicNames(config.topicPrefix),
        log: (line) => say(`${kafkaPrefix}${line}`),
      });
      broker = await starting;
      brokers = broker.brokers;
      say(`${kafkaPrefix}ready on ${brokers.join(",")} (log: ${broker.logFile})`);
      if (interrupt.signal.aborted) throw new Interrupted();
    }

    // 2. Target, orchestrator, drivers, each after the previous one is ready.
    for (
      const [port, what] of [[config.targetPort, "--target-port"], [
        config.orchestratorPort,
        "--port",
      ]] as const
    ) {
      if (await isListening(port)) {
        throw new Error(
          `127.0.0.1:${port} is already in use (is a cluster already up?); choose another with ${what}`,
        );
      }
    }
    const tasks = denoJson.tasks as Record<string, string>;
    const plan: ProcessSpec[] = buildPlan(config, brokers, tasks, Deno.execPath());
    const root = new URL("..", import.meta.url).pathname;
    const api = createApiClient(`http://127.0.0.1:${config.orchestratorPort}`);
    const drivers: string[] = [];
    for (const spec of plan) {
      const child = supervisor.spawn(spec, root);
      say(`up: started ${spec.name} (pid ${child.pid})`);
      if (spec.ready.kind === "http") {
        const url = spec.ready.url;
        await waitUntil(`${spec.name} to answer ${url}`, () => httpOk(url), {
          timeoutMs: 60_000,
          signal: interrupt.signal,
          child,
        });
      } else drivers.push(spec.ready.nodeId);
    }
    await waitUntil(`drivers ${drivers.join(", ")} to be alive`, async () => {
      const alive = new Set(
        (await api.drivers()).filter((d) => d.status === "alive").map((d) => d.node_id),
      );
      return drivers.every((d) => alive.has(d));
    }, { timeoutMs: 90_000, signal: interrupt.signal });

    const base = `http://127.0.0.1:${config.orchestratorPort}`;
    const target = `http://127.0.0.1:${config.targetPort}/ping`;
    say([
      "",
      `surge is up: ${drivers.length} driver${drivers.length === 1 ? "" : "s"} alive (${
        drivers.join(", ")
      }).`,
      `  Dashboard:  ${base}/`,
      `  API docs:   ${base}/api/docs`,
      `  Target:     ${target}`,
      `  Try:        deno task loadtest --target ${target} --count 10000 --threshold 'p99<50ms'`,
      "Ctrl-C stops everything.",
      "",
    ].join("\n"));

    if (config.demo) {
      const ok = await runDemo(api, target, say, interrupt.signal);
      say(
        ok
          ? "\nDemo done: both tests finished. The cluster keeps running; Ctrl-C stops it."
          : "\nDemo did not complete.",
      );
    }

    // 3. Run until interrupted, or until a child dies on its own.
    const died = Promise.race(supervisor.children.map((c) => c.exited.then(() => c)));
    const stopped = new Promise<void>((resolve) =>
      interrupt.signal.addEventListener("abort", () => resolve(), { once: true })
    );
    const first = await Promise.race([died, stopped]);
    if (first && !interrupt.signal.aborted) {
      say(`up: ${first.name} exited on its own (code ${await first.exited}); stopping the cluster`);
      code = 1;
    }
  } catch (err) {
    if (!(err instanceof Interrupted)) {
      say(`up: ${(err as Error).message}`);
      code = 1;
    }
  } finally {
    await supervisor.stopAll();
    if (broker) {
      say(`${kafkaPrefix}stopping Kafka...`);
      await broker.stop();
    }
    say("up: everything stopped.");
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return code;
}

if (import.meta.main) Deno.exit(await main());
