/**
 * How stale the orchestrator's view is: a whole local cluster (`deno task up`, 2 drivers) runs a
 * Tsunami at a known rate while the API is polled every 50 ms. At poll time t the drivers have
 * answered about (t − start) × rate requests; the API shows `responses`, so its view is
 * `staleness = (t − start) − responses / rate` old (the ~1 ms response time included). The first
 * and last second are left out: they measure start-up and the final report, not staleness.
 */
import denoJson from "../deno.json" with { type: "json" };
import { createApiClient } from "../cli/api_client.ts";
import { findClientToken } from "../shared/api_token.ts";
import { pollUntil, sleep } from "../shared/async.ts";
import { killQuietly } from "../shared/process.ts";
import { taskCommand } from "../up/plan.ts";
import { freePort, ROOT, type Runner, say } from "./runner.ts";

/** Staleness figures in ms. */
export interface Staleness {
  polls: number;
  p50: number;
  p99: number;
  max: number;
}

const DRIVERS = 2;
const DELAY_MS = 2; // 500 requests/s per driver
const SECONDS = 8;
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

/** Starts `deno task up` with 2 drivers on free ports and waits until it is up. */
async function startCluster(runner: Runner, dataDir: string): Promise<Cluster> {
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
      env: { SURGE_TOPIC_PREFIX: `bench-${crypto.randomUUID().slice(0, 8)}`, NO_COLOR: "1" },
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

/** Runs the Tsunami on a fresh cluster and measures the API's staleness. */
export async function measureStaleness(runner: Runner): Promise<Staleness> {
  const dataDir = await Deno.makeTempDir({ prefix: "surge-bench-" });
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(runner, dataDir);
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
    const rate = DRIVERS * 1000 / DELAY_MS;
    await api.trigger(test.test_id);
    const samples: [number, number][] = [];
    for (;;) {
      const view = await api.getTest(test.test_id);
      samples.push([Date.now(), view.overall.responses]);
      if (view.settled) break;
      await sleep(POLL_MS);
    }
    const final = await api.getTest(test.test_id);
    // The test's start by the drivers' clocks (this host's): their report time less elapsed.
    const start = Math.min(
      ...Object.values(final.drivers).map((d) => Date.parse(d.reported_at!) - d.elapsed_s * 1000),
    );
    const staleness = samples
      .filter(([t]) => t >= start + 1000 && t <= start + (SECONDS - 1) * 1000)
      .map(([t, responses]) => (t - start) - responses / rate * 1000);
    say(`staleness: ${staleness.length} polls of ${final.overall.responses} responses`);
    return {
      polls: staleness.length,
      p50: percentile(staleness, 50),
      p99: percentile(staleness, 99),
      max: Math.max(...staleness),
    };
  } finally {
    // SIGINT: `up` stops its drivers, orchestrator, target and any broker it started.
    if (cluster) {
      killQuietly(cluster.child, "SIGINT");
      await cluster.child.status;
    }
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
