/**
 * `deno task bench`: surge's engine against wrk and autocannon, one core each — the target on
 * CPU 0, the load generator on CPU 1 (taskset) — then surge's pacing accuracy (Avalanche at a
 * rate, Tsunami at a delay), then the target itself against a bare `Deno.serve`. Loopback only,
 * bounded durations; every child process is killed at the end.
 */
import denoJson from "../deno.json" with { type: "json" };
import { parseOrExit } from "../shared/usage_error.ts";
import { taskCommand } from "../up/plan.ts";
import { BENCH_USAGE, type BenchConfig, parseBenchConfig } from "./config.ts";
import { autocannonRps, type SurgeResult, surgeResult, wrkErrors, wrkRps } from "./tool_output.ts";
import { pollUntil } from "../shared/async.ts";
import { httpOk } from "../shared/probe.ts";
import { killQuietly } from "../shared/process.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const children = new Set<Deno.ChildProcess>();
const say = (line: string) => console.error(`[bench] ${line}`);

/** `taskset -c <cpu>` when there are two cores to pin to. */
let pinning = true;
function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  return pinning ? ["taskset", ["-c", String(cpu), cmd, ...args]] : [cmd, args];
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Whether `cmd args` runs and exits 0 (`anyExit`: whether it runs at all). */
async function has(cmd: string, args: string[], anyExit = false): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return anyExit || out.success;
  } catch {
    return false; // not installed
  }
}

/** Runs a command to completion (killed after `limitS`) and returns its stdout and stderr. */
async function run(cmd: string, args: string[], limitS: number): Promise<string> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", cwd: ROOT })
    .spawn();
  children.add(child);
  const timer = setTimeout(() => child.kill("SIGKILL"), limitS * 1000);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${text}`);
    return text;
  } finally {
    clearTimeout(timer);
    children.delete(child);
  }
}

/** Starts a server on CPU 0 and waits until it answers. */
async function startServer(script: string, port: number): Promise<void> {
  const [cmd, args] = pinned(0, DENO, [
    "run",
    "--allow-net",
    "--allow-env",
    script,
    "--port",
    String(port),
  ]);
  const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "inherit", cwd: ROOT })
    .spawn();
  children.add(child);
  await pollUntil(() => httpOk(`http://127.0.0.1:${port}/ping`), {
    what: `${script} to come up on port ${port}`,
    timeoutMs: 10_000,
  });
}

async function killAll(): Promise<void> {
  for (const child of children) killQuietly(child, "SIGTERM");
  await Promise.allSettled([...children].map((c) => c.status));
  children.clear();
}

function surge(url: string, flags: string[], limitS: number): Promise<SurgeResult> {
  // The driver task's own command line, so its permissions are spelt only in deno.json.
  const driver = taskCommand(denoJson.tasks, "driver", DENO, [
    "--local",
    url,
    "--workers",
    "1",
    "--json",
    ...flags,
  ]);
  const [cmd, args] = pinned(1, DENO, driver.args);
  return run(cmd, args, limitS).then(surgeResult);
}

async function wrk(url: string, connections: number, seconds: number): Promise<number> {
  const [cmd, args] = pinned(1, "wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, url]);
  const out = await run(cmd, args, seconds + 30);
  if (wrkErrors(out) > 0) say(`wrk reported ${wrkErrors(out)} errors or non-2xx responses`);
  return wrkRps(out);
}

async function targetCount(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`);
  return (await res.json()).requests_received as number;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const pad = (s: string, n: number) => s.padEnd(n);

async function main(opt: BenchConfig): Promise<void> {
  pinning = navigator.hardwareConcurrency >= 2 && await has("taskset", ["-c", "0", "true"]);
  if (!pinning) {
    say("fewer than 2 cores or no taskset: running unpinned, numbers are not comparable");
  }
  const haveWrk = await has("wrk", ["--version"], true); // wrk --version exits 1
  let autocannon: [string, string[]] | undefined;
  if (await has("autocannon", ["--version"])) autocannon = ["autocannon", []];
  else if (await has("npx", ["--offline", "-y", "autocannon@8", "--version"])) {
    autocannon = ["npx", ["--offline", "-y", "autocannon@8"]];
  }

  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/ping`;
  await startServer("target/main.ts", port);
  const { connections: c, duration: d } = opt;
  say(`target on CPU 0 at ${url}; load on CPU 1; ${c} connections, ${d} s per run`);

  // 1. Throughput, tools interleaved so machine noise hits all of them alike.
  const runs: Record<string, number[]> = { wrk: [], autocannon: [], surge: [] };
  for (let r = 0; r < opt.repeat; r++) {
    if (haveWrk) runs.wrk!.push(await wrk(url, c, d));
    if (autocannon) {
      const [cmd, pre] = autocannon;
      const [pc, pa] = pinned(1, cmd, [...pre, "-c", String(c), "-d", String(d), "--json", url]);
      runs.autocannon!.push(autocannonRps(await run(pc, pa, d + 60)));
    }
    runs.surge!.push(
      (await surge(url, ["--connections", String(c), "--duration", String(d)], d + 30)).rps,
    );
    say(`throughput round ${r + 1}/${opt.repeat} done`);
  }
  const best = (xs: number[]) => xs.length === 0 ? NaN : Math.max(...xs);
  const wrkBest = best(runs.wrk!);
  const acBest = best(runs.autocannon!);
  const out: string[] = [];
  out.push(
    `\nThroughput: ${c} connections, ${d} s per run, target on CPU 0, load generator on CPU 1`,
  );
  out.push(
    `${pad("tool", 22)}${pad("requests/s (each run)", 34)}${pad("best", 10)}vs wrk  vs autocannon`,
  );
  const row = (name: string, xs: number[], missing: string) => {
    if (xs.length === 0) return out.push(`${pad(name, 22)}${missing}`);
    const b = best(xs);
    out.push(
      pad(name, 22) + pad(xs.map(fmt).join(" / "), 34) + pad(fmt(b), 10) +
        pad(Number.isNaN(wrkBest) ? "-" : `${(b / wrkBest).toFixed(2)}x`, 8) +
        (Number.isNaN(acBest) ? "-" : `${(b / acBest).toFixed(2)}x`),
    );
  };
  row("wrk -t1", runs.wrk!, "not installed (apt-get install wrk)");
  row("autocannon", runs.autocannon!, "not installed (npm i -g autocannon)");
  row("surge (1 worker)", runs.surge!, "failed");

  // 2. Avalanche at a requested rate: achieved = what the target received over surge's duration.
  out.push(`\nRate accuracy (Avalanche with --rate, ${opt.paceSeconds} s, 50 connections)`);
  out.push(
    `${pad("asked/s", 10)}${pad("sent", 10)}${pad("target got", 12)}${pad("achieved/s", 12)}${
      pad("error", 9)
    }${pad("late", 7)}p50 / p99 ms`,
  );
  for (const rate of [1000, 10_000, 50_000]) {
    const before = await targetCount(base);
    const s = await surge(url, [
      "--rate",
      String(rate),
      "--duration",
      String(opt.paceSeconds),
      "--connections",
      "50",
    ], 60);
    const got = (await targetCount(base)) - before;
    const achieved = got / s.duration_s;
    out.push(
      pad(fmt(rate), 10) + pad(fmt(s.requests), 10) + pad(fmt(got), 12) + pad(fmt(achieved), 12) +
        pad(`${((achieved / rate - 1) * 100).toFixed(2)}%`, 9) + pad(String(s.late), 7) +
        `${s.latency_ms.p50} / ${s.latency_ms.p99}`,
    );
  }

  // 3. Tsunami: the mean gap between requests against the asked delay.
  out.push(`\nTsunami accuracy (${opt.paceSeconds} s, 10 connections)`);
  out.push(
    `${pad("delay ms", 10)}${pad("sent", 8)}${pad("target got", 12)}${pad("mean gap ms", 13)}${
      pad("error", 9)
    }${pad("late", 7)}p50 / p99 ms`,
  );
  for (const delay of [1, 10]) {
    const before = await targetCount(base);
    const s = await surge(url, [
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
    const gap = (s.duration_s * 1000) / got;
    out.push(
      pad(String(delay), 10) + pad(fmt(s.requests), 8) + pad(fmt(got), 12) +
        pad(gap.toFixed(4), 13) +
        pad(`${((gap / delay - 1) * 100).toFixed(2)}%`, 9) + pad(String(s.late), 7) +
        `${s.latency_ms.p50} / ${s.latency_ms.p99}`,
    );
  }

  // 4. The Hono target against a bare Deno.serve, both on CPU 0, wrk on CPU 1.
  if (haveWrk) {
    const barePort = freePort();
    await startServer("bench/bare_server.ts", barePort);
    const bare: number[] = [];
    const hono: number[] = [];
    for (let r = 0; r < opt.repeat; r++) {
      bare.push(await wrk(`http://127.0.0.1:${barePort}/ping`, c, d));
      hono.push(await wrk(url, c, d));
    }
    out.push(`\nTarget server: wrk -t1 -c${c} -d${d}s, server on CPU 0`);
    out.push(`${pad("server", 22)}${pad("requests/s (each run)", 34)}${pad("best", 10)}ratio`);
    out.push(
      pad("bare Deno.serve", 22) + pad(bare.map(fmt).join(" / "), 34) + pad(fmt(best(bare)), 10) +
        "1.00",
    );
    out.push(
      pad("Hono target", 22) + pad(hono.map(fmt).join(" / "), 34) + pad(fmt(best(hono)), 10) +
        (best(hono) / best(bare)).toFixed(2),
    );
  }
  console.log(out.join("\n"));
  if (!autocannon) say("autocannon is not installed: `npm i -g autocannon` to include it");
}

if (import.meta.main) {
  const opt = parseOrExit(
    "bench",
    BENCH_USAGE,
    () => parseBenchConfig(Deno.env.toObject(), Deno.args),
  );
  const stop = () => killAll().then(() => Deno.exit(130));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let code = 0;
  try {
    await main(opt);
  } catch (err) {
    console.error(`bench failed: ${err instanceof Error ? err.message : err}`);
    code = 1;
  } finally {
    await killAll();
  }
  Deno.exit(code);
}
