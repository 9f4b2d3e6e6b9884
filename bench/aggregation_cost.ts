/**
 * What aggregating a fleet costs the orchestrator: a real orchestrator process (its own topic
 * prefix and data dir, on the bench's broker) takes a test on N synthetic drivers that register,
 * heartbeat and send one realistic metrics report a second each (synthetic_fleet.ts,
 * synthetic_driver.ts). Its CPU time (user + system, /proc) is read over equal windows:
 *
 * 1. idle — the N drivers alive and heartbeating, no test running: what the fleet costs at rest;
 * 2. in turn, held and loaded: the test running and the drivers heartbeating busy with it, their
 *    reports held back, then N reports a second to validate, decode, merge, store and chart;
 *    held, loaded, held, …, held (cpu_windows.ts: each loaded window is measured against the held
 *    ones on both sides of it, seconds apart, so the machine's drift cancels);
 * 3. load + readers — the reports plus a dashboard open on the test (its event stream rebuilds
 *    the whole view every second) and a client that GETs the test every second, between two
 *    more held windows (skipped for an aged test, see {@link AggregationOptions.ageS}).
 *
 * With `ageS`, every driver has run that long before its first report, so the reports are as
 * large as a long test's: a cumulative histogram keeps filling buckets in its tail.
 *
 * The cost of aggregation is what the loaded windows used beyond their held neighbours, per
 * report and as a share of one core. Every driver then sends the rest of its reports, and the
 * orchestrator's totals and merged latency are checked against what the drivers sent: a fast
 * wrong answer is not a result.
 */
import denoJson from "../deno.json" with { type: "json" };
import { createApiClient } from "../cli/api_client.ts";
import type { TestView } from "../shared/api.ts";
import { pollUntil, sleep } from "../shared/async.ts";
import { decodeHistogram, mergeAll, summarize } from "../shared/histogram.ts";
import { KafkaBus } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import { killQuietly } from "../shared/process.ts";
import { topicNames } from "../shared/topics.ts";
import { taskCommand } from "../up/plan.ts";
import type { CpuWindow } from "./cpu_windows.ts";
import { cpuReader } from "./proc_cpu.ts";
import { readLikeUsers } from "./user_reads.ts";
import { ROOT, type Runner, say } from "./runner.ts";
import { SyntheticDriver } from "./synthetic_driver.ts";
import { SyntheticFleet } from "./synthetic_fleet.ts";
import { heldAndLoaded, SETTLE_MS, windowOf, type WindowSequence } from "./window_sequence.ts";

/** What to measure. */
export interface AggregationOptions {
  brokers: string[];
  drivers: number;
  /** Requests per second each synthetic driver reports. */
  rate: number;
  /** Length of each measured window. */
  seconds: number;
  /** Loaded windows (each between two held ones). */
  cycles: number;
  /**
   * How old the test is, in seconds, when the first report is sent: each synthetic driver has
   * already run that long, so its cumulative histograms, and its reports, are as large as a long
   * test's.
   */
  ageS: number;
}

/** The windows and whether the results were exact. */
export interface AggregationCost extends WindowSequence {
  /** The drivers heartbeating, no test running. */
  idle: CpuWindow;
  /** Totals and merged latency equal to what the drivers sent; else why not. */
  exact: true | string;
  /** The mean size of a report as JSON, in bytes. */
  reportBytes: number;
}

/** Seconds of reports before the first measured window, so the orchestrator's JIT is warm. */
const WARM_UP_S = 5;
/** Starts the orchestrator task on `brokers`; resolves with its base URL once it serves. */
async function startOrchestrator(
  runner: Runner,
  brokers: string[],
  dataDir: string,
  env: Record<
    string,
    string
  >,
) {
  const { cmd, args } = taskCommand(
    denoJson.tasks,
    "orchestrator",
    Deno.execPath(),
    ["--port", "0", "--data-dir", dataDir],
    [`--allow-net=${brokers.join(",")}`, `--allow-read=${dataDir}`, `--allow-write=${dataDir}`],
  );
  const child = runner.track(
    new Deno.Command(cmd, { args, cwd: ROOT, env, stdin: "null", stdout: "piped", stderr: "null" })
      .spawn(),
  );
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const base = await pollUntil(async () => {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the orchestrator exited before it served:\n${text}`);
    text += value;
    return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
  }, { what: "the orchestrator to serve", timeoutMs: 60_000, intervalMs: 1 });
  (async () => {
    while (!(await lines.read()).done) { /* discard */ }
  })().catch(() => {});
  return { child, base };
}

/** The orchestrator's numbers against the drivers' own: undefined when they agree exactly. */
function mismatch(view: TestView, finals: readonly MetricsMessage[]): string | undefined {
  const lost = Object.entries(view.drivers).filter(([, d]) => d.status === "lost");
  if (lost.length > 0) {
    return `${lost.length} drivers counted lost (${lost[0]![0]}: ${lost[0]![1].lost_reason})`;
  }
  const responses = finals.reduce((n, m) => n + m.responses, 0);
  const requests = finals.reduce((n, m) => n + m.requests, 0);
  if (view.overall.responses !== responses || view.overall.requests !== requests) {
    return `orchestrator counted ${view.overall.requests}/${view.overall.responses} ` +
      `requests/responses, the drivers sent ${requests}/${responses}`;
  }
  const { count: _count, ...latency } = summarize(
    mergeAll(finals.map((m) => decodeHistogram(m.histogram))),
  );
  const got = JSON.stringify(view.overall.latency_ms);
  if (got !== JSON.stringify(latency)) {
    return `merged latency ${got} is not the drivers' pooled ${JSON.stringify(latency)}`;
  }
  for (const m of finals) {
    const driver = view.drivers[m.node_id];
    if (driver?.responses !== m.responses || !driver.final) {
      return `driver ${m.node_id}: ${driver?.responses} responses, sent ${m.responses} (final)`;
    }
  }
  return undefined;
}

/**
 * Every synthetic driver's reports for the test, in order, from `ageS` seconds into it; the last
 * of each is final. Each driver's share takes up to a second or so of CPU (about 1 ms a simulated
 * second), so the event loop is given back between drivers: the fleet's heartbeats run on it, and
 * the orchestrator would count drivers that missed three of them lost.
 */
async function prepareReports(
  fleet: SyntheticFleet,
  testId: string,
  options: Pick<AggregationOptions, "rate" | "ageS">,
  count: number,
): Promise<Map<string, MetricsMessage[]>> {
  const { rate, ageS } = options;
  const reports = new Map<string, MetricsMessage[]>();
  for (const [i, nodeId] of fleet.nodeIds.entries()) {
    const driver = new SyntheticDriver({
      nodeId,
      instanceId: fleet.instanceIds.get(nodeId)!,
      testId,
      rate,
      seed: i + 1,
    });
    driver.advance(ageS);
    reports.set(nodeId, Array.from({ length: count }, (_, k) => driver.next(k === count - 1)));
    await sleep(0);
  }
  return reports;
}

/**
 * The synthetic drivers registered and alive on the orchestrator `api` answers for, and a test
 * created on all of them for `cycles` windows of `seconds`; resolves with its id.
 */
async function createTestOnFleet(
  api: ReturnType<typeof createApiClient>,
  fleet: SyntheticFleet,
  options: AggregationOptions,
): Promise<string> {
  const { drivers, rate, seconds, cycles, ageS } = options;
  // The topics were created a moment ago: a publish may still find no leader, and retries.
  await pollUntil(() => fleet.start().then(() => true), {
    what: "the synthetic drivers to register",
    timeoutMs: 30_000,
    intervalMs: 500,
  });
  await pollUntil(
    async () => (await api.drivers()).filter((d) => d.status === "alive").length === drivers,
    { what: `${drivers} synthetic drivers alive`, timeoutMs: 60_000, intervalMs: 500 },
  );
  const test = await api.createTest({
    test_type: "AVALANCHE",
    test_message_delay: 0,
    target_throughput: rate,
    message_count_per_driver: 0,
    // Every window, the pauses between them, and room to settle, after the age the first report
    // claims: a report whose elapsed time is beyond the test's window is refused.
    duration_s: ageS + WARM_UP_S + (2 * cycles + 4) * (seconds + SETTLE_MS / 1000) + 60,
    // Never dialled: the synthetic drivers only report.
    target_url: "http://127.0.0.1:9/",
    drivers: [...fleet.nodeIds],
  });
  return test.test_id;
}

/** Runs the windows on a fresh orchestrator; see the module comment. */
export async function measureAggregationCost(
  runner: Runner,
  options: AggregationOptions,
): Promise<AggregationCost> {
  const { brokers, drivers, rate, seconds, cycles, ageS } = options;
  const dataDir = await Deno.makeTempDir({ prefix: "surge-bench-aggregation-" });
  const prefix = `bench-agg-${crypto.randomUUID().slice(0, 8)}.`;
  const bus = new KafkaBus({
    brokers,
    clientId: "surge-bench-fleet",
    topics: topicNames(prefix),
    logger: createLogger({ component: "bench-fleet" }, { level: "error" }),
  });
  const fleet = new SyntheticFleet({
    bus,
    nodeIds: Array.from(
      { length: drivers },
      (_, i) => `synthetic-${String(i + 1).padStart(3, "0")}`,
    ),
  });
  let child: Deno.ChildProcess | undefined;
  try {
    await bus.ensureTopics();
    const token = crypto.randomUUID();
    const env = {
      KAFKA_BROKERS: brokers.join(","),
      SURGE_TOPIC_PREFIX: prefix,
      SURGE_API_TOKEN: token,
    };
    const started = await startOrchestrator(runner, brokers, dataDir, env);
    child = started.child;
    const api = createApiClient(started.base, { token });
    const testId = await createTestOnFleet(api, fleet, options);
    // Reports flow during the warm-up, the loaded windows and the readers' one (with their
    // settling pauses), and a few more at the end; without readers, the readers' share goes out
    // at the end too.
    const reportsPerDriver = Math.ceil(WARM_UP_S + (cycles + 1) * (seconds + SETTLE_MS / 1000)) + 4;
    say(
      `aggregation: preparing ${drivers} × ${reportsPerDriver} reports (${rate} requests/s each` +
        (ageS > 0 ? `, from ${ageS} s into the test)` : ")"),
    );
    const reports = await prepareReports(fleet, testId, options, reportsPerDriver);
    const finals = [...reports.values()].map((list) => list.at(-1)!);
    const all = [...reports.values()].flat();
    const reportBytes = all.reduce((n, m) => n + JSON.stringify(m).length, 0) / all.length;
    const window = windowOf(await cpuReader(child.pid), fleet, () => api.getTest(testId), seconds);
    say(`aggregation: idle window (${drivers} drivers heartbeating), ${seconds} s`);
    const idle = await window();
    await api.trigger(testId);
    fleet.report(testId, reports);
    await sleep(WARM_UP_S * 1000);
    say(
      `aggregation: ${cycles} windows of ${drivers} reports/s, each between two with the ` +
        `reports held, ${seconds} s each`,
    );
    const windows = await heldAndLoaded(
      fleet,
      window,
      cycles,
      // An aged test's first reports each cover its whole age, so the first read of its series
      // would build every second of it at once from those: no dashboard open from the start
      // does that, so readers are measured on a young test only.
      ageS > 0 ? undefined : (signal) => readLikeUsers(started.base, token, testId, signal),
    );
    const view = await pollUntil(async () => {
      const v = await api.getTest(testId);
      return v.settled ? v : undefined;
    }, { what: "the test to settle", timeoutMs: 60_000, intervalMs: 500 });
    if (fleet.failures > 0) say(`aggregation: ${fleet.failures} publishes failed`);
    return { idle, ...windows, exact: mismatch(view, finals) ?? true, reportBytes };
  } finally {
    await fleet.stop();
    await bus.close().catch(() => {});
    if (child) {
      killQuietly(child, "SIGTERM");
      await child.status;
    }
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
