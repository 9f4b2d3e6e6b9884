/**
 * `deno task orchestrator`: the only orchestrator file that touches the world. It reads the
 * config, opens the store and the API token under the data dir, serves the API on `--host`
 * (127.0.0.1 by default; reads at once, commands once Kafka is connected and this orchestrator
 * is the active one), connects to Kafka, starts the controller and joins the election, until
 * SIGINT, SIGTERM or `POST /api/shutdown`; then it closes everything and exits 0.
 */
import { PROBE_MS } from "./heartbeat_channel.ts";
import {
  electionGroup,
  orchestratorLiveGroup,
  orchestratorMetricsGroup,
} from "../shared/groups.ts";
import { loadOrCreateTokenFile } from "../shared/api_token.ts";
import { lazyEnv } from "../shared/cli_args.ts";
import { KafkaBus } from "../shared/kafka.ts";
import { type KafkaClientAccess, kafkaClientOptions } from "../shared/kafka_client_options.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { createOrchestratorApp } from "./app.ts";
import { ORCHESTRATOR_USAGE, type OrchestratorConfig, parseOrchestratorConfig } from "./config.ts";
import { Controller } from "./controller.ts";
import { DOCS_ASSETS } from "./docs_assets.ts";
import type { DocsAssets } from "./docs_page.ts";
import { KafkaElection } from "./kafka_election.ts";
import { announcedUrl, localUrl, servedHosts } from "./served_hosts.ts";
import { Store } from "./store.ts";

async function main(): Promise<number> {
  const config = parseOrExit(
    "orchestrator",
    ORCHESTRATOR_USAGE,
    () => parseOrchestratorConfig(lazyEnv((name) => Deno.env.get(name)), Deno.args),
  );
  const access = parseOrExit(
    "orchestrator",
    ORCHESTRATOR_USAGE,
    () => kafkaClientOptions(config.access, Deno.readTextFileSync),
  );
  const logger = createLogger({ component: "orchestrator" }, {
    level: config.logLevel,
    json: config.logJson,
  });

  const store = await openStore(config.dataDir, logger);
  if (!store) return 1;
  const token = await apiToken(config, logger);
  if (token === undefined) {
    store.close();
    return 1;
  }
  const parts: Parts = { store, logger, ...createController(config, access, store, logger) };
  try {
    parts.controller.recover();
  } catch (err) {
    // The store refused a read (locked): the controller tries again when it starts.
    logger.warn("cannot load the open tests yet", { error: err });
  }
  const running = serve(config, parts, token, DOCS_ASSETS);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, running.shutdown);
  }
  return await connectKafka(config, parts, running);
}

/** What the orchestrator runs; {@link serve}'s shutdown closes all of it. */
interface Parts {
  store: Store;
  bus: KafkaBus;
  controller: Controller;
  election: KafkaElection;
  logger: Logger;
  /** Where the API answers, once it listens. */
  url: { value: string };
}

/** The API being served, with its one way to stop everything. */
interface Running {
  /** Stops serving and closes the controller, Kafka and the store, once however often called. */
  shutdown(): void;
  /** Resolves when the shutdown has finished. */
  stopped: Promise<void>;
  /** Lets commands through: they answer 503 until Kafka is connected. */
  markConnected(): void;
}

/** Opens the store in the data dir; logs and returns undefined when it cannot. */
async function openStore(dataDir: string, logger: Logger): Promise<Store | undefined> {
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    return new Store(`${dataDir}/surge.sqlite`);
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? `: ${(err as Error).cause}` : "";
    logger.error(`cannot use the data dir ${dataDir}${cause}`, { error: err });
    return undefined;
  }
}

/**
 * The API token: SURGE_API_TOKEN, else the data dir's token file, created on the first start.
 * Logs where it comes from (never the token) and returns undefined when the file is unusable.
 */
async function apiToken(config: OrchestratorConfig, logger: Logger): Promise<string | undefined> {
  if (config.apiToken !== undefined) {
    logger.info("API token from SURGE_API_TOKEN");
    return config.apiToken;
  }
  try {
    const file = await loadOrCreateTokenFile(config.dataDir);
    logger.info(file.created ? "API token generated" : "API token read", { file: file.path });
    if (file.readableByOthers) {
      logger.warn("the API token file is readable by other users: chmod 600 it", {
        file: file.path,
      });
    }
    return file.token;
  } catch (err) {
    logger.error((err as Error).message, { error: err });
    return undefined;
  }
}

/** The Kafka bus and the controller on it (neither connects yet). */
function createController(
  config: OrchestratorConfig,
  access: KafkaClientAccess,
  store: Store,
  logger: Logger,
) {
  // A stable group id per data dir: after a restart the metrics consumer resumes where it
  // stopped, so metrics published while the orchestrator was down still complete their test.
  const instanceId = store.meta("instance_id", () => crypto.randomUUID());
  const topics = topicNames(config.topicPrefix);
  const bus = new KafkaBus({
    brokers: config.brokers,
    clientId: "surge-orchestrator",
    topics,
    logger,
    access,
  });
  const url = { value: "" };
  const election = new KafkaElection({
    kafka: bus.kafka,
    topic: topics.orchestrators,
    groupId: electionGroup(config.topicPrefix),
    me: () => ({ orchestrator_id: instanceId, url: url.value }),
    logger,
  });
  const controller = new Controller({
    bus,
    store,
    logger,
    fleetKey: config.fleetKey,
    options: {
      heartbeatMs: config.heartbeatMs,
      lostAfter: config.lostAfter,
      retention: { keepTests: config.retain, keepDays: config.retainDays },
      metricsGroupId: orchestratorMetricsGroup(instanceId),
      liveGroupId: orchestratorLiveGroup(crypto.randomUUID()),
      probeMs: PROBE_MS,
    },
  });
  return { bus, controller, election, url };
}

/** Serves the API and the dashboard on `--host` at once; reads work before Kafka does. */
function serve(
  config: OrchestratorConfig,
  { store, bus, controller, election, logger, url: ownUrl }: Parts,
  token: string,
  docsAssets: DocsAssets | undefined,
): Running {
  let stopping: Promise<void> | undefined;
  const closing = new AbortController();
  const done = Promise.withResolvers<void>();
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info("shutting down");
      closing.abort();
      // Leave the election first: a standby takes over while this one closes the rest.
      await election.close().catch((err) =>
        logger.warn("leaving the election failed", { error: err })
      );
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
    storage: () => store.health(),
    docsAssets,
    shutdown,
    signal: closing.signal,
    kafkaConnected: () => kafkaConnected,
    leadership: election,
    access: {
      token,
      // Read on each request, once `server` exists: with --port 0 the port is known only then.
      servesHost: servedHosts(config.host, () => server.addr.port, config.publicHosts),
    },
  });
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ port }) => {
      const url = localUrl(config.host, port);
      ownUrl.value = announcedUrl(config.host, port, config.publicHosts);
      // One plain line on stdout, so scripts (and tests) can learn a port picked with --port 0.
      console.log(`surge orchestrator listening on ${url} (API docs: ${url}/api/docs)`);
      logger.info("serving", {
        url,
        announced: ownUrl.value,
        host: config.host,
        public_hosts: config.publicHosts.map((h) => h.port ? `${h.name}:${h.port}` : h.name),
        data_dir: config.dataDir,
        topic_prefix: config.topicPrefix,
        commands: config.fleetKey === undefined ? "unsigned (no SURGE_FLEET_KEY)" : "signed",
      });
    },
  }, app.fetch);
  const markConnected = () => {
    kafkaConnected = true;
  };
  return { shutdown, stopped: done.promise, markConnected };
}

/**
 * Connects to Kafka and starts the controller, then serves until the shutdown; resolves with
 * the exit code (1 when Kafka cannot be reached).
 */
async function connectKafka(
  config: OrchestratorConfig,
  { bus, controller, election, logger }: Parts,
  running: Running,
): Promise<number> {
  // The API serves history from the store at once; commands wait for Kafka (503 until then).
  // kafkajs retries for a minute or more when no broker answers, so say what we wait for.
  logger.info("connecting to Kafka", { brokers: config.brokers });
  const connecting = (async () => {
    await bus.ensureTopics();
    await controller.start();
    await election.start();
  })();
  // A shutdown while still connecting must not wait for kafkajs to give up.
  const outcome = await Promise.race([
    connecting.then(() => "connected" as const, (err: unknown) => err),
    running.stopped.then(() => "stopped" as const),
  ]);
  if (outcome === "connected") {
    running.markConnected();
    logger.info("connected to Kafka", { brokers: config.brokers });
  } else if (outcome !== "stopped") {
    logger.error(`cannot connect to Kafka at ${config.brokers.join(",")}`, { error: outcome });
    running.shutdown();
    await running.stopped;
    return 1;
  }
  await running.stopped;
  return 0;
}

if (import.meta.main) Deno.exit(await main());
