/**
 * A target that refuses every connection must not make the driver spin: a real `driver --local`
 * process with 2,000 connections against a closed port for 5 s, its CPU time read from
 * /proc/<pid>/stat. With a fixed 10 ms pause it used both cores; with per-connection backoff
 * alone it still dialled 22,000 times, about 66 % of a core. Now each worker's dial gate dials
 * once per backoff pause, the other requests fail undialled, and the CPU the run costs beyond a
 * 2-connection run is what those few dials and the undialled requests cost, measured here.
 */
import assert from "node:assert/strict";
import type { Dial } from "../../driver/dial.ts";
import { Engine } from "../../driver/engine.ts";
import { buildRequest } from "../../driver/http1_request.ts";
import { Recorder } from "../../driver/recorder.ts";
import { spawnChild } from "../../shared/process.ts";
import { dialsWithin } from "../support/backoff.ts";
import { freePort } from "../support/processes.ts";

const MAIN = new URL("../../driver/main.ts", import.meta.url).pathname;
const CONNECTIONS = 2_000;
const DURATION_S = 5;
/** Fixed, so the baseline and the real run start the same number of load workers. */
const WORKERS = 2;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux). */
async function clockTicks(): Promise<number> {
  const out = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) || 100;
}

/** User + system CPU seconds a process (all its threads, so its Workers too) has used. */
function cpuSeconds(pid: number | "self", ticks: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name in parentheses may hold spaces: fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticks; // utime, stime: fields 14, 15
  } catch {
    return undefined; // exited
  }
}

interface DriverRun {
  summary: { requests: number; responses: number; errors: number; unfinished: number } & {
    error_kinds: Record<string, number>;
    offered: number;
  };
  cpuS: number;
}

/**
 * Runs `driver --local` against `url` and samples its CPU time every 20 ms until it exits; the
 * last sample misses at most 20 ms × the cores of CPU, which the bound below dwarfs.
 */
async function runDriver(url: string, args: string[], ticks: number): Promise<DriverRun> {
  let output = "";
  const child = spawnChild({
    name: "driver",
    cmd: Deno.execPath(),
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      MAIN,
      "--local",
      url,
      ...args,
    ],
    output: (lines) => output += lines,
  });
  let cpuS = 0;
  const sampler = setInterval(() => cpuS = cpuSeconds(child.pid, ticks) ?? cpuS, 20);
  try {
    const status = await child.status;
    assert.equal(status.code, 0, output);
  } finally {
    clearInterval(sampler);
    await child.stop();
  }
  const line = output.split("\n").find((l) => l.startsWith("{"));
  assert.ok(line, output);
  return { summary: JSON.parse(line), cpuS };
}

/** This machine's CPU cost of one refused connect, measured in this process. */
async function cpuPerRefusedDial(port: number, ticks: number): Promise<number> {
  const n = 2_000;
  const before = cpuSeconds("self", ticks)!;
  await Promise.all(
    Array.from(
      { length: n },
      () => Deno.connect({ hostname: "127.0.0.1", port }).then((c) => c.close(), () => {}),
    ),
  );
  return (cpuSeconds("self", ticks)! - before) / n;
}

/**
 * This machine's CPU cost of one request failed undialled while the gate is shut, measured in
 * this process: the real engine, 1,000 connections, closed model, for 1 s, against a dialler
 * that refuses (the gate lets it dial a few times only).
 */
async function cpuPerUndialledRequest(ticks: number): Promise<number> {
  const refuse: Dial = () => Promise.reject(new Deno.errors.ConnectionRefused("refused"));
  const before = cpuSeconds("self", ticks)!;
  const rec = new Recorder(false);
  const engine = new Engine({
    dial: refuse,
    request: buildRequest({ method: "GET", url: "http://127.0.0.1:9/" }),
    head: false,
    timeoutMs: 2_000,
    connections: 1_000,
    count: Infinity,
  }, rec);
  await engine.warm();
  const startMs = performance.now();
  await engine.run({
    timetable: { startMs, intervalMs: 0, offset: 0, stride: 1 },
    endMs: startMs + 1_000,
  });
  return (cpuSeconds("self", ticks)! - before) / rec.snapshot(true).requests;
}

/** TCP connects this machine started so far (every process's: ActiveOpens, /proc/net/snmp). */
function tcpConnects(): number {
  const lines = Deno.readTextFileSync("/proc/net/snmp").split("\n").filter((l) =>
    l.startsWith("Tcp:")
  );
  const names = lines[0]!.split(" ");
  return Number(lines[1]!.split(" ")[names.indexOf("ActiveOpens")]);
}

Deno.test("a target refusing 2,000 connections for 5 s: one dial per pause per worker, CPU stays low", async () => {
  const port = freePort(); // free a moment ago: nothing listens, so every connect is refused
  const url = `http://127.0.0.1:${port}/`;
  const ticks = await clockTicks();
  const perDialS = await cpuPerRefusedDial(port, ticks);
  const perUndialledS = await cpuPerUndialledRequest(ticks);
  const common = ["--duration", String(DURATION_S), "--workers", String(WORKERS), "--json"];
  // What the driver costs on its own, starting and running as long: 2 connections (1 a worker).
  const baseline = await runDriver(url, ["--connections", "2", ...common], ticks);
  const connectsBefore = tcpConnects();
  const run = await runDriver(url, ["--connections", String(CONNECTIONS), ...common], ticks);
  const connects = tcpConnects() - connectsBefore;
  const s = run.summary;

  // Exactly one outcome per request, every one a refusal.
  assert.equal(s.responses, 0);
  assert.equal(s.unfinished, 0);
  assert.equal(s.errors, s.requests);
  assert.deepEqual(s.error_kinds, { connect_refused: s.requests });
  assert.equal(s.offered, s.requests);

  // The rules. Each connection makes a request at each step of its backoff: at most 11 in 5 s
  // (0, 10, 30, … 4270 ms), 22,000 in all. Each worker's gate dials at the warm-up and once per
  // pause of the same rule: at most 1 + 11 per worker, 24 in all; the rest fail undialled.
  const maxRequests = CONNECTIONS * dialsWithin(DURATION_S * 1000);
  assert.ok(s.requests <= maxRequests, `${s.requests} requests > ${maxRequests}`);
  const maxDials = WORKERS * (1 + dialsWithin(DURATION_S * 1000));

  // The CPU beyond the baseline's is what those dials and undialled requests cost, with room
  // for the noise of a busy machine: twice that, plus a quarter of the baseline (its start-up
  // varies by about that much from run to run). Dialling every request, as per-connection
  // backoff alone did, costs 22,000 dials: far more than this bound allows.
  const extra = run.cpuS - baseline.cpuS;
  const allowed = 2 * (maxDials * perDialS + maxRequests * perUndialledS) +
    baseline.cpuS / 4;
  const pct = (cpuS: number) => `${(cpuS / DURATION_S * 100).toFixed(0)} % of a core`;
  console.log(
    `2,000 connections: CPU ${run.cpuS.toFixed(2)} s over ${DURATION_S} s (${pct(run.cpuS)}); ` +
      `2 connections: ${baseline.cpuS.toFixed(2)} s; the 2,000 cost ${extra.toFixed(2)} s ` +
      `(${pct(extra)}), allowed ${allowed.toFixed(2)} s. ${s.requests} requests (rule: ≤ ` +
      `${maxRequests}), ≤ ${maxDials} dials by the rule; this machine started ${connects} TCP ` +
      `connects meanwhile, every process's. A refused dial costs ` +
      `${(perDialS * 1e6).toFixed(0)} µs here, an undialled request ` +
      `${(perUndialledS * 1e6).toFixed(1)} µs; dialling all ${maxRequests} would cost ` +
      `${(maxRequests * perDialS).toFixed(2)} s`,
  );
  assert.ok(
    extra <= allowed,
    `the 2,000 connections cost ${extra.toFixed(2)} s > ${allowed.toFixed(2)} s`,
  );
});
