/**
 * How stale the orchestrator's view is: a whole local cluster (`deno task up`, 9 drivers with one
 * load worker each) runs a Tsunami at a known rate while the API is polled every 50 ms. At poll
 * time t a driver that started at s has answered about (t − s) × rate requests; the API shows its
 * `responses`, so the view of that driver is `(t − s) − responses / rate` old (the ~1 ms response
 * time included), and the view is as stale as its oldest driver. Each driver's start is its own
 * (its report time less its elapsed time, on this host's clock): drivers take the trigger a few
 * ms apart. The first and last second are left out: they measure start-up and the final
 * report, not staleness.
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

/** Drivers in the staleness cluster. */
export const STALENESS_DRIVERS = 9;
const DRIVERS = STALENESS_DRIVERS;
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

/** Starts `deno task up` with the drivers on free ports and `brokers`; waits until it is up. */
async function startCluster(
  runner: Runner,
  dataDir: string,
  brokers: string[],
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
        SURGE_TOPIC_PREFIX: `bench-${crypto.randomUUID().slice(0, 8)}`,
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
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(runner, dataDir, brokers);
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
    const rate = 1000 / DELAY_MS; // per driver
    await api.trigger(test.test_id);
    const samples: { at: number; responses: Map<string, number> }[] = [];
    for (;;) {
      const view = await api.getTest(test.test_id);
      const responses = new Map(Object.entries(view.drivers).map(([id, d]) => [id, d.responses]));
      samples.push({ at: Date.now(), responses });
      if (view.settled) break;
      await sleep(POLL_MS);
    }
    const final = await api.getTest(test.test_id);
    // Each driver's start by its own clock (this host's): its report time less its elapsed time.
    const starts = new Map(
      Object.entries(final.drivers).map((
        [id, d],
      ) => [id, Date.parse(d.reported_at!) - d.elapsed_s * 1000]),
    );
    const first = Math.max(...starts.values());
    const last = Math.min(...starts.values());
    const staleness = samples
      .filter(({ at }) => at >= first + 1000 && at <= last + (SECONDS - 1) * 1000)
      .map(({ at, responses }) =>
        Math.max(
          ...[...starts].map(([id, start]) =>
            (at - start) - (responses.get(id) ?? 0) / rate * 1000
          ),
        )
      );
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
