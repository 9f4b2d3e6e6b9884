/**
 * The bench's processes: pinning to a core, running a tool to completion, starting a server and
 * killing whatever is left. Every child is tracked so `killAll` leaves nothing behind.
 */
import denoJson from "../deno.json" with { type: "json" };
import { pollUntil } from "../shared/async.ts";
import { httpOk } from "../shared/probe.ts";
import { killQuietly } from "../shared/process.ts";
import { taskCommand } from "../up/plan.ts";
import { type SurgeResult, surgeResult, wrkErrors, wrkRps } from "./tool_output.ts";

/** The repository's root, where every child runs. */
export const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();

/** Logs a progress line on stderr (the tables go to stdout). */
export const say = (line: string) => console.error(`[bench] ${line}`);

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Whether `cmd args` runs and exits 0 (`anyExit`: whether it runs at all). */
export async function has(cmd: string, args: string[], anyExit = false): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return anyExit || out.success;
  } catch {
    return false; // not installed
  }
}

/** Runs processes for the bench and remembers them until they end. */
export class Runner {
  readonly children = new Set<Deno.ChildProcess>();
  /** Pin to a core with taskset (false on a 1-core machine or without taskset). */
  pinning = true;

  /** `taskset -c <cpu>` when there are two cores to pin to. */
  pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
    return this.pinning ? ["taskset", ["-c", String(cpu), cmd, ...args]] : [cmd, args];
  }

  /** Tracks a child until it exits. */
  track(child: Deno.ChildProcess): Deno.ChildProcess {
    this.children.add(child);
    child.status.finally(() => this.children.delete(child));
    return child;
  }

  /** Runs a command to completion (killed after `limitS`); returns its stdout and stderr. */
  async run(cmd: string, args: string[], limitS: number): Promise<string> {
    const child = this.track(
      new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", cwd: ROOT }).spawn(),
    );
    const timer = setTimeout(() => killQuietly(child, "SIGKILL"), limitS * 1000);
    try {
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${text}`);
      return text;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a server on CPU 0 and waits until it answers /ping. */
  async startServer(script: string, port: number): Promise<void> {
    const [cmd, args] = this.pinned(0, DENO, [
      "run",
      "--allow-net",
      "--allow-env",
      script,
      "--port",
      String(port),
    ]);
    this.track(
      new Deno.Command(cmd, { args, stdout: "null", stderr: "inherit", cwd: ROOT }).spawn(),
    );
    await pollUntil(() => httpOk(`http://127.0.0.1:${port}/ping`), {
      what: `${script} to come up on port ${port}`,
      timeoutMs: 10_000,
    });
  }

  /** surge's driver in local mode on CPU 1, one worker, its `--json` line parsed. */
  surge(url: string, flags: string[], limitS: number): Promise<SurgeResult> {
    // The driver task's own command line, so its permissions are spelt only in deno.json.
    const driver = taskCommand(denoJson.tasks, "driver", DENO, [
      "--local",
      url,
      "--workers",
      "1",
      "--json",
      ...flags,
    ]);
    const [cmd, args] = this.pinned(1, DENO, driver.args);
    return this.run(cmd, args, limitS).then(surgeResult);
  }

  /** wrk -t1 on CPU 1; requests per second. */
  async wrk(url: string, connections: number, seconds: number): Promise<number> {
    const [cmd, args] = this.pinned(1, "wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, url]);
    const out = await this.run(cmd, args, seconds + 30);
    if (wrkErrors(out) > 0) say(`wrk reported ${wrkErrors(out)} errors or non-2xx responses`);
    return wrkRps(out);
  }

  /** SIGTERM to every child still running, then waits for them. */
  async killAll(): Promise<void> {
    for (const child of this.children) killQuietly(child, "SIGTERM");
    await Promise.allSettled([...this.children].map((c) => c.status));
    this.children.clear();
  }
}

/** The target's own count of requests received. */
export async function targetCount(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`);
  return (await res.json()).requests_received as number;
}

/** Formats a count or rate with thousands separators. */
export const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
/** Pads a table cell. */
export const pad = (s: string, n: number) => s.padEnd(n);
