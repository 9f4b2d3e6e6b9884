/**
 * `deno task bench`: surge's engine against wrk and autocannon, one core each — the target on
 * CPU 0, the load generator on CPU 1 (taskset) — then surge's pacing accuracy (Avalanche at a
 * rate, Tsunami at a delay), the target itself against a bare `Deno.serve`, the CPU each tool
 * spends per request at fixed rates (surge, h2load, autocannon, hey), the staleness of the
 * orchestrator's view on a whole local cluster, and what aggregating a fleet of 50 drivers costs
 * the orchestrator. `--only` picks sections. Loopback only, bounded durations; every child
 * process is stopped at the end.
 */
import { parseOrExit } from "../shared/usage_error.ts";
import { measureAggregationCost } from "./aggregation_cost.ts";
import { aggregationTable } from "./aggregation_table.ts";
import { type BenchBroker, benchBroker } from "./broker.ts";
import { BENCH_USAGE, type BenchConfig, parseBenchConfig, type Section } from "./config.ts";
import { measurePacedCpu, pacedCpuTable } from "./paced_cpu.ts";
import { measureStaleness, STALENESS_DRIVERS, STALENESS_RATE } from "./staleness.ts";
import { fmt, freePort, has, pad, Runner, say, targetCount } from "./runner.ts";
import { autocannonRps } from "./tool_output.ts";

/** What every section needs. */
interface Bench {
  runner: Runner;
  opt: BenchConfig;
  /** Kafka, for the sections that run a cluster (started on first use). */
  broker: () => Promise<BenchBroker>;
  /** The Hono target on CPU 0. */
  base: string;
  url: string;
  haveWrk: boolean;
  /** How to run autocannon, if it is installed. */
  autocannon: [string, string[]] | undefined;
  out: string[];
  /** What went wrong, said after the tables. */
  failures: string[];
}

const best = (xs: number[]) => xs.length === 0 ? NaN : Math.max(...xs);

/** 1. Throughput at full speed, tools interleaved so machine noise hits all of them alike. */
async function throughput(b: Bench): Promise<void> {
  const { runner, opt, url, out } = b;
  const { connections: c, duration: d } = opt;
  const runs: Record<"wrk" | "autocannon" | "surge", number[]> = {
    wrk: [],
    autocannon: [],
    surge: [],
  };
  for (let r = 0; r < opt.repeat; r++) {
    if (b.haveWrk) runs.wrk.push(await runner.wrk(url, c, d));
    if (b.autocannon) {
      const [cmd, pre] = b.autocannon;
      const [pc, pa] = runner.pinned(1, cmd, [
        ...pre,
        "-c",
        String(c),
        "-d",
        String(d),
        "--json",
        url,
      ]);
      runs.autocannon.push(autocannonRps(await runner.run(pc, pa, d + 60)));
    }
    const flags = ["--connections", String(c), "--duration", String(d)];
    runs.surge.push((await runner.surge(url, flags, d + 30)).rps);
    say(`throughput round ${r + 1}/${opt.repeat} done`);
  }
  const wrkBest = best(runs.wrk);
  const acBest = best(runs.autocannon);
  out.push(
    `\nThroughput: ${c} connections, ${d} s per run, target on CPU 0, load generator on CPU 1`,
    `${pad("tool", 22)}${pad("requests/s (each run)", 34)}${pad("best", 10)}vs wrk  vs autocannon`,
  );
  const row = (name: string, xs: number[], missing: string) => {
    if (xs.length === 0) return out.push(`${pad(name, 22)}${missing}`);
    const top = best(xs);
    out.push(
      pad(name, 22) + pad(xs.map(fmt).join(" / "), 34) + pad(fmt(top), 10) +
        pad(Number.isNaN(wrkBest) ? "-" : `${(top / wrkBest).toFixed(2)}x`, 8) +
        (Number.isNaN(acBest) ? "-" : `${(top / acBest).toFixed(2)}x`),
    );
  };
  row("wrk -t1", runs.wrk, "not installed (apt-get install wrk)");
  row("autocannon", runs.autocannon, "not installed (npm i -g autocannon)");
  row("surge (1 worker)", runs.surge, "failed");
}

/** 2. Avalanche at a requested rate: achieved = what the target received over the duration. */
async function rateAccuracy(b: Bench): Promise<void> {
  const { runner, opt, base, url, out } = b;
  out.push(
    `\nRate accuracy (Avalanche with --rate, ${opt.paceSeconds} s, 50 connections)`,
    `${pad("asked/s", 10)}${pad("sent", 10)}${pad("target got", 12)}${pad("achieved/s", 12)}${
      pad("error", 9)
    }${pad("late", 7)}${pad("dropped", 9)}lag p99 ms`,
  );
  for (const rate of [1000, 10_000, 50_000]) {
    const before = await targetCount(base);
    const flags = ["--rate", String(rate), "--duration", String(opt.paceSeconds)];
    const s = await runner.surge(url, [...flags, "--connections", "50"], 60);
    const got = (await targetCount(base)) - before;
    const achieved = got / opt.paceSeconds;
    out.push(
      pad(fmt(rate), 10) + pad(fmt(s.requests), 10) + pad(fmt(got), 12) + pad(fmt(achieved), 12) +
        pad(`${((achieved / rate - 1) * 100).toFixed(2)}%`, 9) + pad(String(s.late), 7) +
        pad(String(s.dropped), 9) + s.lag_ms.p99,
    );
  }
}

/** 3. Tsunami: the mean gap between requests against the asked delay. */
async function tsunamiAccuracy(b: Bench): Promise<void> {
  const { runner, opt, base, url, out } = b;
  out.push(
    `\nTsunami accuracy (${opt.paceSeconds} s, 10 connections)`,
    `${pad("delay ms", 10)}${pad("sent", 8)}${pad("target got", 12)}${pad("mean gap ms", 13)}${
      pad("error", 9)
    }${pad("late", 7)}lag p99 ms`,
  );
  for (const delay of [1, 10]) {
    const before = await targetCount(base);
    const s = await runner.surge(url, [
      "--type",
      "tsunami",
      "--delay",
      String(delay),
      "--duration",
      String(opt.paceSeconds),
      "--connections",
      "10",
    ], 60);
    const got = (await targetCount(base)) - before;
    const gap = (opt.paceSeconds * 1000) / got;
    out.push(
      pad(String(delay), 10) + pad(fmt(s.requests), 8) + pad(fmt(got), 12) +
        pad(gap.toFixed(4), 13) + pad(`${((gap / delay - 1) * 100).toFixed(2)}%`, 9) +
        pad(String(s.late), 7) + s.lag_ms.p99,
    );
  }
}

/** 4. The Hono target against a bare Deno.serve, both on CPU 0, wrk on CPU 1. */
async function targetRatio(b: Bench): Promise<void> {
  const { runner, opt, url, out } = b;
  const { connections: c, duration: d } = opt;
  const barePort = freePort();
  await runner.startServer("bench/bare_server.ts", barePort);
  const bare: number[] = [];
  const hono: number[] = [];
  for (let r = 0; r < opt.repeat; r++) {
    bare.push(await runner.wrk(`http://127.0.0.1:${barePort}/ping`, c, d));
    hono.push(await runner.wrk(url, c, d));
  }
  out.push(
    `\nTarget server: wrk -t1 -c${c} -d${d}s, server on CPU 0`,
    `${pad("server", 22)}${pad("requests/s (each run)", 34)}${pad("best", 10)}ratio`,
    pad("bare Deno.serve", 22) + pad(bare.map(fmt).join(" / "), 34) + pad(fmt(best(bare)), 10) +
      "1.00",
    pad("Hono target", 22) + pad(hono.map(fmt).join(" / "), 34) + pad(fmt(best(hono)), 10) +
      (best(hono) / best(bare)).toFixed(2),
  );
}

/** 5. How old the orchestrator's view is (README "Metric semantics": ≤ 1 s). */
async function staleness(b: Bench): Promise<void> {
  const s = await measureStaleness(b.runner, (await b.broker()).brokers);
  b.out.push(
    `\nStaleness of the orchestrator's view: ${STALENESS_DRIVERS} drivers (1 worker each), ` +
      `Tsunami ${STALENESS_DRIVERS} × ${STALENESS_RATE}/s, API polled every 50 ms; age of the ` +
      "oldest driver's numbers",
    `${pad("", 34)}${pad("polls", 8)}${pad("p50 ms", 10)}${pad("p99 ms", 10)}max ms`,
    pad("the orchestrator's view", 34) + pad(String(s.polls), 8) + pad(fmt(s.p50), 10) +
      pad(fmt(s.p99), 10) + fmt(s.max),
    pad("a plain Kafka consumer, same polls", 34) + pad("", 8) + pad(fmt(s.kafka.p50), 10) +
      pad(fmt(s.kafka.p99), 10) + fmt(s.kafka.max),
  );
}

/** CPU per request at a fixed rate: surge against h2load, autocannon, hey (and wrk flat out). */
async function pacedCpu(b: Bench): Promise<void> {
  const seconds = b.opt.duration;
  const { runs, missing } = await measurePacedCpu(b.runner, b.base, seconds, has);
  b.out.push(...pacedCpuTable(runs, seconds, missing));
}

const DRIVERS = 50;
const RATE = 1000;

/** 6. What aggregating 50 drivers' reports costs the orchestrator's CPU. */
async function aggregation(b: Bench): Promise<void> {
  const setting = {
    drivers: DRIVERS,
    rate: RATE,
    seconds: b.opt.aggregationSeconds,
    ageS: b.opt.aggregationAge,
  };
  const cost = await measureAggregationCost(b.runner, {
    ...setting,
    brokers: (await b.broker()).brokers,
    cycles: b.opt.aggregationCycles,
  });
  b.out.push(...aggregationTable(cost, setting));
  if (cost.exact !== true) b.failures.push(`aggregation results are wrong: ${cost.exact}`);
}

/** The sections that measure surge's engine and target against the other tools. */
const ENGINE: readonly Section[] = ["throughput", "rate", "tsunami", "target", "cpu"];

async function main(opt: BenchConfig, runner: Runner, bench: Pick<Bench, "broker">) {
  const run = new Set(opt.only);
  const out: string[] = [];
  const b: Bench = {
    runner,
    opt,
    out,
    failures: [],
    ...bench,
    base: "",
    url: "",
    haveWrk: false,
    autocannon: undefined,
  };
  if (ENGINE.some((s) => run.has(s))) {
    runner.pinning = navigator.hardwareConcurrency >= 2 &&
      await has("taskset", ["-c", "0", "true"]);
    if (!runner.pinning) {
      say("fewer than 2 cores or no taskset: running unpinned, numbers are not comparable");
    }
    if (await has("autocannon", ["--version"])) b.autocannon = ["autocannon", []];
    else if (await has("npx", ["--offline", "-y", "autocannon@8", "--version"])) {
      b.autocannon = ["npx", ["--offline", "-y", "autocannon@8"]];
    }
    const port = freePort();
    b.base = `http://127.0.0.1:${port}`;
    b.url = `${b.base}/ping`;
    await runner.startServer("target/main.ts", port);
    b.haveWrk = await has("wrk", ["--version"], true); // wrk --version exits 1
    say(`target on CPU 0 at ${b.url}; load on CPU 1; ${opt.connections} connections`);
  }
  if (run.has("throughput")) await throughput(b);
  if (run.has("rate")) await rateAccuracy(b);
  if (run.has("tsunami")) await tsunamiAccuracy(b);
  if (run.has("target") && b.haveWrk) await targetRatio(b);
  if (run.has("cpu")) await pacedCpu(b);
  if (run.has("staleness")) await staleness(b);
  if (run.has("aggregation")) await aggregation(b);
  console.log(out.join("\n"));
  if (b.failures.length > 0) throw new Error(b.failures.join("; "));
  if (run.has("throughput") && !b.autocannon) {
    say("autocannon is not installed: `npm i -g autocannon` to include it");
  }
}

if (import.meta.main) {
  const opt = parseOrExit(
    "bench",
    BENCH_USAGE,
    () => parseBenchConfig(Deno.env.toObject(), Deno.args),
  );
  const runner = new Runner();
  let broker: Promise<BenchBroker> | undefined;
  const stopBroker = async () => await (await broker?.catch(() => undefined))?.stop();
  const stop = () => runner.killAll().then(stopBroker).then(() => Deno.exit(130));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let code = 0;
  try {
    await main(opt, runner, { broker: () => broker ??= benchBroker(opt.brokers) });
  } catch (err) {
    console.error(`bench failed: ${err instanceof Error ? err.message : err}`);
    code = 1;
  } finally {
    await runner.killAll();
    await stopBroker();
  }
  Deno.exit(code);
}
