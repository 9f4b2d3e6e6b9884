/**
 * Starts the cluster's children with their output prefixed, and stops them all, newest first:
 * SIGTERM, then SIGKILL after a grace period, so nothing is left behind.
 */
import type { ProcessSpec } from "./plan.ts";
import { LinePrefixer } from "./prefix.ts";

/** A running child. */
export interface Child {
  name: string;
  pid: number;
  /** Resolves with the exit code once the child exited and its output is flushed. */
  exited: Promise<number>;
  /** True once it exited. */
  done(): boolean;
}

/** Runs children and stops them. `write` receives prefixed output lines. */
export class Supervisor {
  readonly children: Child[] = [];
  #procs = new Map<Child, Deno.ChildProcess>();
  #write: (text: string) => void;
  #prefix: (name: string, index: number) => string;

  constructor(write: (text: string) => void, prefix: (name: string, index: number) => string) {
    this.#write = write;
    this.#prefix = prefix;
  }

  /** Spawns `spec` from `cwd`; its stdout and stderr are prefixed and written. */
  spawn(spec: ProcessSpec, cwd: string): Child {
    const proc = new Deno.Command(spec.cmd, {
      args: spec.args,
      cwd,
      env: spec.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const prefix = this.#prefix(spec.name, this.children.length);
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const lines = new LinePrefixer(prefix);
      try {
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          const text = lines.push(chunk);
          if (text) this.#write(text);
        }
      } catch {
        // the pipe broke as the child died: what was read is written below
      }
      const rest = lines.flush();
      if (rest) this.#write(rest);
    };
    const pumps = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
    let finished = false;
    const exited = proc.status.then(async (status) => {
      await pumps;
      finished = true;
      return status.code;
    });
    const child: Child = { name: spec.name, pid: proc.pid, exited, done: () => finished };
    this.children.push(child);
    this.#procs.set(child, proc);
    return child;
  }

  /** Stops one child: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(child: Child, graceMs = 10_000): Promise<number> {
    const proc = this.#procs.get(child);
    if (!proc || child.done()) return await child.exited;
    try {
      proc.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        proc.kill("SIGKILL");
      } catch { /* already gone */ }
    }, graceMs);
    const code = await child.exited;
    clearTimeout(timer);
    return code;
  }

  /** Stops every child, newest first (drivers before the orchestrator before the target). */
  async stopAll(graceMs = 10_000): Promise<void> {
    for (const child of [...this.children].reverse()) await this.stop(child, graceMs);
  }
}
