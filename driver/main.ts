/**
 * `deno task driver`: the only driver file that touches the world (env, args, Kafka, signals).
 * `deno task driver <node_id>` runs a Kafka driver node; `--local <url>` runs one test locally.
 */
import { lazyEnv } from "../shared/cli_args.ts";
import { type KafkaClientAccess, kafkaClientOptions } from "../shared/kafka_client_options.ts";
import { createLogger } from "../shared/log.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { chooseNodeIp } from "./advertise_ip.ts";
import { DRIVER_USAGE, type LocalConfig, type NodeConfig, parseDriverConfig } from "./config.ts";
import { formatSummary, localSummary } from "./local_summary.ts";
import { startTest } from "./pool.ts";
import { resolveHost } from "./resolve_host.ts";
import { guardTargets } from "./target_guard.ts";
import { describePolicy } from "./target_policy.ts";

/** How long a signalled driver may take to finish its test, publish and disconnect. */
const SHUTDOWN_GRACE_MS = 20_000;

/** How long finding the route to one broker may take: a broker that drops SYNs costs no minute. */
const ROUTE_PROBE_MS = 2_000;

/**
 * The local address of a TCP connection to `hostname:port`: the address of the interface that
 * routes there, as the kernel chose it. The connection is closed at once (the broker sees a
 * client that connected and left).
 */
async function localAddressTowards(hostname: string, port: number): Promise<string> {
  const conn = await Deno.connect({
    hostname,
    port,
    signal: AbortSignal.timeout(ROUTE_PROBE_MS),
  });
  try {
    return (conn.localAddr as Deno.NetAddr).hostname;
  } finally {
    conn.close();
  }
}

async function runNode(config: NodeConfig, access: KafkaClientAccess): Promise<number> {
  // Loaded here, not at the top: a `--local` run has no use for kafkajs, and compiling it was
  // about 0.1 s of that run's 0.6 s of start-up CPU.
  const [{ KafkaBus }, { DriverNode }] = await Promise.all([
    import("../shared/kafka.ts"),
    import("./node.ts"),
  ]);
  const logger = createLogger({ component: "driver" }, { level: config.logLevel });
  const nodeIp = await chooseNodeIp({
    advertised: config.advertiseIp,
    brokers: config.brokers,
    localAddressTowards,
    interfaces: () => Deno.networkInterfaces(),
  });
  if (nodeIp.warning) logger.warn(nodeIp.warning, { node_id: config.nodeId });
  const bus = new KafkaBus({
    brokers: config.brokers,
    clientId: `surge-driver-${config.nodeId}`,
    topics: topicNames(config.topicPrefix),
    logger,
    access,
  });
  const node = new DriverNode({
    bus,
    nodeId: config.nodeId,
    nodeIp: nodeIp.ip,
    workers: config.workers,
    heartbeatMs: config.heartbeatMs,
    reportMs: config.reportMs,
    logger,
    fleetKey: config.fleetKey,
    targets: config.targets,
    resolve: resolveHost,
  });
  let signals = 0;
  let signalled: () => void = () => {};
  const signal = new Promise<void>((resolve) => signalled = resolve);
  let started = false;
  const onSignal = () => {
    if (!started) {
      logger.info("stopped before connecting to Kafka", { node_id: config.nodeId });
      Deno.exit(0);
    }
    if (++signals > 1) {
      logger.warn("second signal: exiting now", { node_id: config.nodeId });
      Deno.exit(130);
    }
    logger.info("stopping: final metrics go out first (a second Ctrl-C exits at once)");
    // Without Kafka the final publish and the disconnects would retry for minutes.
    setTimeout(() => {
      logger.error("shutdown did not finish in time: exiting", { grace_ms: SHUTDOWN_GRACE_MS });
      Deno.exit(1);
    }, SHUTDOWN_GRACE_MS);
    signalled();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await bus.ensureTopics();
    await node.start();
    started = true;
    logger.info("driver node running", {
      node_id: config.nodeId,
      node_ip: nodeIp.ip,
      node_ip_from: nodeIp.source,
      brokers: config.brokers,
      targets: describePolicy(config.targets),
      commands: config.fleetKey === undefined
        ? "unsigned accepted (no SURGE_FLEET_KEY)"
        : "only signed with the fleet key",
    });
    await Promise.race([node.ended, signal]);
    return 0;
  } catch (err) {
    logger.error("driver node failed", { error: err });
    return 1;
  } finally {
    await node.close().catch(() => {});
    await bus.close().catch(() => {});
    logger.info("driver node stopped", { node_id: config.nodeId });
  }
}

async function runLocal(config: LocalConfig): Promise<number> {
  const start = guardTargets(startTest, { policy: config.targets, resolve: resolveHost });
  const test = start(config.spec, {
    workers: config.workers,
    reportMs: config.reportMs,
    onReport: config.json ? undefined : (r) => {
      if (!r.final) {
        console.error(
          `${(r.elapsedMs / 1000).toFixed(1)}s  ${r.responses} responses  ` +
            `${Math.round(r.intervalRps)}/s  ${r.errors} errors`,
        );
      }
    },
  });
  const stop = () => test.stop();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const report = await test.done;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  const summary = localSummary(report, config.spec);
  if (config.json) console.log(JSON.stringify(summary));
  else console.log(formatSummary(summary, config.spec.intervalMs > 0));
  if (report.error !== undefined) {
    console.error(`surge driver: ${report.error}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  const config = parseOrExit(
    "driver",
    DRIVER_USAGE,
    () =>
      parseDriverConfig(
        lazyEnv((name) => Deno.env.get(name)),
        Deno.args,
        navigator.hardwareConcurrency,
      ),
  );
  if (config.mode === "local") Deno.exit(await runLocal(config));
  const access = parseOrExit(
    "driver",
    DRIVER_USAGE,
    () => kafkaClientOptions(config.access, Deno.readTextFileSync),
  );
  Deno.exit(await runNode(config, access));
}
