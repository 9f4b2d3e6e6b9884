/**
 * CPU per request at a fixed rate: surge, h2load, autocannon and hey each offer R requests a
 * second for S seconds over 50 connections to the target on CPU 0, from CPU 1; then each runs
 * flat out (wrk too). A tool's CPU is the user + system time the kernel charged to it and its
 * threads, as the shell that waited for it reports (`times`), so every tool is measured the
 * same way whatever it prints. Requests are what the target counted over the run: a tool that
 * fell short of the rate is charged per request it really sent.
 */
import denoJson from "../deno.json" with { type: "json" };
import { taskCommand } from "../up/plan.ts";
import { fmt, pad, type Runner, say, targetCount } from "./runner.ts";
import { childCpuMs } from "./tool_output.ts";

/** The offered rates of the table (requests per second, all connections together). */
export const CPU_RATES = [1_000, 5_000, 20_000, 45_000] as const;
const CONNECTIONS = 50;

/** A load generator: how to offer `rate` (null: as fast as it can), or undefined if it cannot. */
interface Tool {
  name: string;
  /** The command that tells whether it is installed (true: whatever its exit code). */
  probe: [string, string[], boolean?];
  install: string;
  command(url: string, rate: number | null, seconds: number): [string, string[]] | undefined;
}

const perConnection = (rate: number) => String(rate / CONNECTIONS);

/** The tools, in the table's column order. */
export const CPU_TOOLS: readonly Tool[] = [
  {
    name: "surge",
    probe: [Deno.execPath(), ["--version"]],
    install: "",
    command(url, rate, seconds) {
      // The driver task's own command line, so its permissions are spelt only in deno.json.
      const driver = taskCommand(denoJson.tasks, "driver", Deno.execPath(), [
        "--local",
        url,
        "--workers",
        "1",
        "--connections",
        String(CONNECTIONS),
        "--duration",
        String(seconds),
        ...(rate === null ? [] : ["--rate", String(rate)]),
      ]);
      return [driver.cmd, driver.args];
    },
  },
  {
    name: "h2load",
    probe: ["h2load", ["--version"]],
    install: "apt-get install nghttp2-client",
    command: (url, rate, seconds) => [
      "h2load",
      [
        "--h1",
        "-c",
        String(CONNECTIONS),
        ...(rate === null ? [] : ["--rps", perConnection(rate)]),
        "-D",
        String(seconds),
        url,
      ],
    ],
  },
  {
    name: "autocannon",
    probe: ["autocannon", ["--version"]],
    install: "npm i -g autocannon",
    command: (url, rate, seconds) => [
      "autocannon",
      [
        "-c",
        String(CONNECTIONS),
        "-d",
        String(seconds),
        ...(rate === null ? [] : ["--overallRate", String(rate)]),
        url,
      ],
    ],
  },
  {
    name: "hey",
    probe: ["hey", ["-n", "1", "-c", "1", "http://127.0.0.1:9/"]],
    install: "apt-get install hey",
    // hey's rate is per worker; unlimited it opens no keep-alive pool worth comparing.
    command: (url, rate, seconds) =>
      rate === null
        ? undefined
        : ["hey", ["-c", String(CONNECTIONS), "-q", perConnection(rate), "-z", `${seconds}s`, url]],
  },
  {
    name: "wrk",
    probe: ["wrk", ["--version"], true], // wrk --version exits 1
    install: "apt-get install wrk",
    // wrk has no rate (that is wrk2's), so it only runs flat out.
    command: (url, rate, seconds) =>
      rate === null ? ["wrk", ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, url]] : undefined,
  },
];

/** One tool's run: CPU ms charged to it and requests the target counted. */
export interface CpuRun {
  cpuMs: number;
  requests: number;
}

/** µs of CPU per request the target counted. */
export const usPerRequest = (r: CpuRun) => r.cpuMs * 1000 / r.requests;

/** Runs `cmd` on CPU 1 under a shell that reports its CPU; the target's count around it. */
async function measure(
  runner: Runner,
  base: string,
  [cmd, args]: [string, string[]],
  seconds: number,
): Promise<CpuRun> {
  const before = await targetCount(base);
  const [sh, shArgs] = runner.pinned(1, "sh", ["-c", '"$@"; times', "sh", cmd, ...args]);
  const output = await runner.run(sh, shArgs, seconds + 60);
  const requests = await targetCount(base) - before;
  // The shell exits with `times`'s status, so a tool that failed shows here, by sending nothing.
  if (requests <= 0) {
    throw new Error(`${cmd} sent nothing the target counted:\n${output.slice(-500)}`);
  }
  return { cpuMs: childCpuMs(output), requests };
}

/** Every tool at every rate, then flat out; a missing tool is skipped with its install hint. */
export async function measurePacedCpu(
  runner: Runner,
  base: string,
  seconds: number,
  has: (cmd: string, args: string[], anyExit?: boolean) => Promise<boolean>,
): Promise<{ runs: Map<string, CpuRun>; missing: string[] }> {
  const url = `${base}/ping`;
  const tools: Tool[] = [];
  const missing: string[] = [];
  for (const tool of CPU_TOOLS) {
    if (await has(...tool.probe)) tools.push(tool);
    else missing.push(`${tool.name}: not installed (${tool.install})`);
  }
  const runs = new Map<string, CpuRun>();
  for (const rate of [...CPU_RATES, null]) {
    for (const tool of tools) {
      const command = tool.command(url, rate, seconds);
      if (!command) continue;
      runs.set(`${tool.name}@${rate ?? "max"}`, await measure(runner, base, command, seconds));
    }
    say(`CPU per request: ${rate === null ? "flat out" : `${fmt(rate)}/s`} done`);
  }
  return { runs, missing };
}

/** The table: µs of CPU per request (requests the target got per second) per tool and rate. */
export function pacedCpuTable(
  runs: Map<string, CpuRun>,
  seconds: number,
  missing: readonly string[],
): string[] {
  const cell = (run: CpuRun | undefined) =>
    run === undefined ? "-" : `${usPerRequest(run).toFixed(1)} (${fmt(run.requests / seconds)}/s)`;
  const lines = [
    `\nCPU per request at a fixed rate: ${CONNECTIONS} connections, ${seconds} s, target on CPU 0, ` +
    `generator on CPU 1; µs of generator CPU (user + sys) per request the target got ` +
    `(requests/s it got)`,
    pad("offered", 10) + CPU_TOOLS.map((t) => pad(t.name, 22)).join("") + "surge / h2load",
  ];
  for (const rate of [...CPU_RATES, null]) {
    const key = (name: string) => `${name}@${rate ?? "max"}`;
    const surge = runs.get(key("surge"));
    const h2load = runs.get(key("h2load"));
    const ratio = surge && h2load
      ? `${(usPerRequest(surge) / usPerRequest(h2load)).toFixed(2)}x`
      : "-";
    lines.push(
      pad(rate === null ? "flat out" : `${fmt(rate)}/s`, 10) +
        CPU_TOOLS.map((t) => pad(cell(runs.get(key(t.name))), 22)).join("") + ratio,
    );
  }
  return [...lines, ...missing];
}
