/**
 * How stale the orchestrator's view is: a whole local cluster (`deno task up`, 9 drivers with one
 * load worker each) runs a Tsunami while the API is polled every 50 ms. Each driver's numbers in
 * the view are those of its newest report the orchestrator has taken, stamped with the time the
 * driver made it (`reported_at`, this host's clock), so at poll time t that driver's part of the
 * view is `t − reported_at` old: the report interval, the publish, Kafka, the orchestrator's fetch
 * and handling, and the API's answer. The view is as stale as its oldest driver. Only polls
 * where every driver has reported and none has sent its final report count: before, drivers are
 * starting; after, the test is ending. This holds however many requests the drivers achieve on
 * a loaded machine; a driver too busy to report on time shows as staleness, as it should.
 */
import denoJson from "../deno.json" with { type: "json" };
import { createApiClient } from "../cli/api_client.ts";
import { findClientToken } from "../shared/api_token.ts";
import { pollUntil, sleep } from "../shared/async.ts";
import { KafkaBus } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { killQuietly } from "../shared/process.ts";
import { topicNames } from "../shared/topics.ts";
import { taskCommand } from "../up/plan.ts";
import { freePort, ROOT, type Runner, say } from "./runner.ts";

/** Staleness figures in ms. */
export interface Staleness {
  polls: number;
  p50: number;
  p99: number;
  max: number;
  /** The same for the newest reports a plain Kafka consumer had read at each poll. */
  kafka: { p50: number; p99: number; max: number };
}

/** Drivers in the staleness cluster. */
export const STALENESS_DRIVERS = 9;
const DRIVERS = STALENESS_DRIVERS;
const DELAY_MS = 5;
/** Requests per second of each driver. */
export const STALENESS_RATE = 1000 / DELAY_MS;
/** Long enough for a steady stretch after 9 drivers have all started on a loaded machine. */
const SECONDS = 15;
const POLL_MS = 50;

/** The value at percentile `p` of `xs` (nearest rank). */
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** A cluster started by `deno task up`. */
interface Cluster {
  child: Deno.ChildProcess;
  api: string;
  target: string;
}

/** Starts `deno task up` with the drivers on free ports and `brokers`; waits until it is up. */
async function startCluster(
  runner: Runner,
  dataDir: string,
  brokers: string[],
  prefix: string,
): Promise<Cluster> {
  const port = freePort();
  const targetPort = freePort();
  const up = taskCommand(denoJson.tasks, "up", Deno.execPath(), [
    "--drivers",
    String(DRIVERS),
    "--workers",
    "1",
    "--port",
    String(port),
    "--target-port",
    String(targetPort),
    "--data-dir",
    dataDir,
  ]);
  const child = runner.track(
    new Deno.Command(up.cmd, {
      args: up.args,
      cwd: ROOT,
      env: {
        KAFKA_BROKERS: brokers.join(","),
        SURGE_TOPIC_PREFIX: prefix,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn(),
  );
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  await pollUntil(async () => {
    const { value, done } = await lines.read();
    if (done) throw new Error(`deno task up exited before it was up:\n${text}`);
    text += value;
    return text.includes("surge is up");
  }, { what: "deno task up", timeoutMs: 180_000, intervalMs: 1 });
  // Keep draining its output so it never blocks on a full pipe.
  (async () => {
    while (!(await lines.read()).done) { /* discard */ }
  })().catch(() => {});
  return {
    child,
    api: `http://127.0.0.1:${port}`,
    target: `http://127.0.0.1:${targetPort}/ping`,
  };
}

/** Runs the Tsunami on a fresh cluster on `brokers` and measures the API's staleness. */
export async function measureStaleness(runner: Runner, brokers: string[]): Promise<Staleness> {
  const dataDir = await Deno.makeTempDir({ prefix: "surge-bench-" });
  const prefix = `bench-${crypto.randomUUID().slice(0, 8)}`;
  // A plain consumer of the drivers' reports beside the orchestrator: what Kafka and the drivers
  // alone allow, so the orchestrator's share of the staleness shows.
  const bus = new KafkaBus({
    brokers,
    clientId: "surge-bench-staleness",
    topics: topicNames(prefix),
    logger: createLogger({ component: "bench-staleness" }, { level: "error" }),
  });
  const newest = new Map<string, number>();
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(runner, dataDir, brokers, prefix);
    await bus.subscribe({
      groupId: `bench-staleness-${crypto.randomUUID()}`,
      kinds: ["metrics"],
      fromBeginning: false,
      onMessage: ({ kind, message }) => {
        if (kind !== "metrics" || message.final) return;
        newest.set(message.node_id, Math.max(newest.get(message.node_id) ?? 0, message.timestamp));
      },
    });
    // SURGE_API_TOKEN if set (`up` passes it on), else the token the orchestrator created.
    const token = await findClientToken(Deno.env.toObject(), dataDir);
    const api = createApiClient(cluster.api, { token });
    const test = await api.createTest({
      test_type: "TSUNAMI",
      test_message_delay: DELAY_MS,
      message_count_per_driver: 0,
      duration_s: SECONDS,
      target_url: cluster.target,
      connections: 10,
    });
    await api.trigger(test.test_id);
    const staleness: number[] = [];
    const kafka: number[] = [];
    let responses = 0;
    for (;;) {
      const view = await api.getTest(test.test_id);
      const at = Date.now();
      const drivers = Object.values(view.drivers);
      const reported = drivers.map((d) => d.reported_at === null ? NaN : Date.parse(d.reported_at));
      const steady = drivers.length === DRIVERS && !drivers.some((d) => d.final) &&
        reported.every((t) => Number.isFinite(t)) && newest.size === DRIVERS;
      if (steady) {
        staleness.push(at - Math.min(...reported));
        kafka.push(at - Math.min(...newest.values()));
      }
      responses = view.overall.responses;
      if (view.settled) break;
      await sleep(POLL_MS);
    }
    say(
      `staleness: ${staleness.length} polls while ${DRIVERS} drivers ran; ${responses} responses`,
    );
    return {
      polls: staleness.length,
      p50: percentile(staleness, 50),
      p99: percentile(staleness, 99),
      max: Math.max(...staleness),
      kafka: { p50: percentile(kafka, 50), p99: percentile(kafka, 99), max: Math.max(...kafka) },
    };
  } finally {
    // SIGINT: `up` stops its drivers, orchestrator, target and any broker it started.
    if (cluster) {
      killQuietly(cluster.child, "SIGINT");
      await cluster.child.status;
    }
    await bus.close().catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
