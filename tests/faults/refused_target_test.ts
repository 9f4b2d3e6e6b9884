/**
 * A target that refuses every connection must not make the driver spin: a real `driver --local`
 * process with 2,000 connections against a closed port for 5 s, its CPU time read from
 * /proc/<pid>/stat. Before the backoff it retried every 10 ms and used both cores of this
 * machine for the whole run; now each connection dials at most as often as the backoff rule
 * allows, and the CPU the run costs is what those dials cost, not more.
 */
import assert from "node:assert/strict";
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

Deno.test("a target refusing 2,000 connections for 5 s: dials follow the backoff, CPU stays low", async () => {
  const port = freePort(); // free a moment ago: nothing listens, so every connect is refused
  const url = `http://127.0.0.1:${port}/`;
  const ticks = await clockTicks();
  const perDialS = await cpuPerRefusedDial(port, ticks);
  const common = ["--workers", String(WORKERS), "--json"];
  // What starting the driver costs on its own: 2 connections for 1 s.
  const baseline = await runDriver(
    url,
    ["--connections", "2", "--duration", "1", ...common],
    ticks,
  );
  const run = await runDriver(
    url,
    ["--connections", String(CONNECTIONS), "--duration", String(DURATION_S), ...common],
    ticks,
  );
  const s = run.summary;

  // Exactly one outcome per request, every one a refusal.
  assert.equal(s.responses, 0);
  assert.equal(s.unfinished, 0);
  assert.equal(s.errors, s.requests);
  assert.deepEqual(s.error_kinds, { connect_refused: s.requests });
  assert.equal(s.offered, s.requests);

  // The rule: at most 11 dials per connection in 5 s (0, 10, 30, … 4270 ms), 22,000 in all;
  // the old fixed 10 ms pause allowed 500 per connection, 1,000,000 in all.
  const maxRequests = CONNECTIONS * dialsWithin(DURATION_S * 1000);
  assert.ok(s.requests <= maxRequests, `${s.requests} requests > ${maxRequests}`);

  // The CPU is what starting costs plus what the dials cost (each connection's warm-up dial
  // included), with room for recording them: twice that, on this machine's own figures.
  const dials = s.requests + CONNECTIONS;
  const bound = 2 * (baseline.cpuS + dials * perDialS);
  const coreShare = run.cpuS / DURATION_S;
  console.log(
    `CPU ${run.cpuS.toFixed(2)} s over ${DURATION_S} s (${(coreShare * 100).toFixed(0)} % of a ` +
      `core) for ${s.requests} requests; start-up ${baseline.cpuS.toFixed(2)} s; ` +
      `${(perDialS * 1e6).toFixed(0)} µs per refused dial; bound ${bound.toFixed(2)} s; a 10 ms ` +
      `spin would dial ${CONNECTIONS * DURATION_S * 100} times`,
  );
  assert.ok(run.cpuS <= bound, `CPU ${run.cpuS.toFixed(2)} s > ${bound.toFixed(2)} s`);
});
