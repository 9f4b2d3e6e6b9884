/**
 * `deno task orchestrator`: the only orchestrator file that touches the world. It reads the
 * config, opens the store under the data dir, serves the API on 127.0.0.1 (reads at once,
 * commands once Kafka is connected), connects to Kafka and starts the controller, until SIGINT,
 * SIGTERM or `POST /api/shutdown`; then it closes everything and exits 0.
 */
import { KafkaBus } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { createOrchestratorApp } from "./app.ts";
import { ORCHESTRATOR_USAGE, parseOrchestratorConfig } from "./config.ts";
import { Controller } from "./controller.ts";
import { type DocsAssets, loadDocsAssets } from "./docs_page.ts";
import { Store } from "./store.ts";

async function main(): Promise<number> {
  const config = parseOrExit(
    "orchestrator",
    ORCHESTRATOR_USAGE,
    () => parseOrchestratorConfig(Deno.env.toObject(), Deno.args),
  );
  const logger = createLogger({ component: "orchestrator" }, {
    level: config.logLevel,
    json: config.logJson,
  });

  let store: Store;
  try {
    await Deno.mkdir(config.dataDir, { recursive: true });
    store = new Store(`${config.dataDir}/surge.sqlite`);
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? `: ${(err as Error).cause}` : "";
    logger.error(`cannot use the data dir ${config.dataDir}${cause}`, { error: err });
    return 1;
  }
  // A stable group id per data dir: after a restart the metrics consumer resumes where it
  // stopped, so metrics published while the orchestrator was down still complete their test.
  const instanceId = store.meta("instance_id", () => crypto.randomUUID());
  const bus = new KafkaBus({
    brokers: config.brokers,
    clientId: "surge-orchestrator",
    topics: topicNames(config.topicPrefix),
    logger,
  });
  const controller = new Controller({
    bus,
    store,
    logger,
    options: {
      heartbeatMs: config.heartbeatMs,
      lostAfter: config.lostAfter,
      metricsGroupId: `surge-orchestrator-${instanceId}`,
      liveGroupId: `surge-orchestrator-live-${crypto.randomUUID()}`,
    },
  });
  let docsAssets: DocsAssets | undefined;
  try {
    docsAssets = await loadDocsAssets(Deno.readFile);
  } catch (err) {
    logger.warn("Swagger UI assets not found; /api/docs serves a plain page", { error: err });
  }

  let stopping: Promise<void> | undefined;
  const closing = new AbortController();
  const done = Promise.withResolvers<void>();
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info("shutting down");
      closing.abort();
      await server.shutdown().catch(() => {});
      await controller.close();
      await bus.close().catch((err) => logger.warn("closing Kafka failed", { error: err }));
      store.close();
      done.resolve();
    })();
  };
  let kafkaConnected = false;
  const app = createOrchestratorApp({
    controller,
    logger,
    invalid: bus.invalid,
    docsAssets,
    shutdown,
    signal: closing.signal,
    kafkaConnected: () => kafkaConnected,
  });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: config.port,
    onListen: ({ port }) => {
      const url = `http://127.0.0.1:${port}`;
      // One plain line on stdout, so scripts (and tests) can learn a port picked with --port 0.
      console.log(`surge orchestrator listening on ${url} (API docs: ${url}/api/docs)`);
      logger.info("serving", { url, data_dir: config.dataDir, topic_prefix: config.topicPrefix });
    },
  }, app.fetch);
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, shutdown);

  // The API serves history from the store at once; commands wait for Kafka (503 until then).
  // kafkajs retries for a minute or more when no broker answers, so say what we wait for.
  logger.info("connecting to Kafka", { brokers: config.brokers });
  const connecting = (async () => {
    await bus.ensureTopics();
    await controller.start();
  })();
  // A shutdown while still connecting must not wait for kafkajs to give up.
  const outcome = await Promise.race([
    connecting.then(() => "connected" as const, (err: unknown) => err),
    done.promise.then(() => "stopped" as const),
  ]);
  if (outcome === "connected") {
    kafkaConnected = true;
    logger.info("connected to Kafka", { brokers: config.brokers });
  } else if (outcome !== "stopped") {
    logger.error(`cannot connect to Kafka at ${config.brokers.join(",")}`, { error: outcome });
    shutdown();
    await done.promise;
    return 1;
  }
  await done.promise;
  return 0;
}

Deno.exit(await main());
