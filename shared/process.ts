/**
 * Child processes: started with their output read line by line (prefixed, for a shared
 * terminal), and stopped the patient way — a polite request first (SIGTERM), SIGKILL once a grace
 * period has passed — so nothing is left behind. Used by `deno task up`, the local Kafka broker
 * and the tests.
 */
import { LinePrefixer } from "./line_prefixer.ts";

/** How to stop a child. */
export interface StopOptions {
  /** The polite request (default SIGTERM). */
  signal?: Deno.Signal;
  /** How long the child may take to exit before it is SIGKILLed (default 10 s). */
  graceMs?: number;
}

/** Sends `signal` to a child process or a pid, ignoring that it is already gone. */
export function killQuietly(target: Deno.ChildProcess | number, signal: Deno.Signal): void {
  try {
    if (typeof target === "number") Deno.kill(target, signal);
    else target.kill(signal);
  } catch { /* already gone */ }
}

/** The two steps of {@link stopWithGrace} and what they wait for. */
export interface GracefulStop<T> {
  /** Settles when the process has exited (with its status, say). */
  exited: Promise<T>;
  /** Asks the process to stop: a signal, or closing its stdin. */
  ask: () => unknown;
  /** Makes it stop, if it has not `graceMs` after asking. */
  force: () => void;
  graceMs: number;
}

/** Asks a process to stop, forces it after the grace period, and resolves with `exited`. */
export async function stopWithGrace<T>(stop: GracefulStop<T>): Promise<T> {
  await stop.ask();
  const timer = setTimeout(stop.force, stop.graceMs);
  try {
    return await stop.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** What to start, and where its output goes. */
export interface SpawnOptions {
  /** For messages about the child. */
  name: string;
  cmd: string;
  args: string[];
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Receives stdout and stderr, each in whole lines, every line with `prefix` and a "\n". */
  output: (lines: string) => void;
  /** Put before every line (default: nothing). */
  prefix?: string;
}

/** A child started by {@link spawnChild}. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves once the child has exited and all its output has gone to `output`. */
  readonly status: Promise<Deno.CommandStatus>;
  /** True once `status` has resolved. */
  done(): boolean;
  /** Sends `signal` without waiting; a child already gone is not an error. */
  kill(signal: Deno.Signal): void;
  /** Sends `signal` (SIGTERM) and waits for the exit, SIGKILLing the child after `graceMs`. */
  stop(options?: StopOptions): Promise<Deno.CommandStatus>;
}

/** Starts `cmd` with no stdin and its stdout and stderr read into `output` line by line. */
export function spawnChild(options: SpawnOptions): Child {
  const proc = new Deno.Command(options.cmd, {
    args: options.args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const lines = new LinePrefixer(options.prefix ?? "");
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const text = lines.push(chunk);
        if (text) options.output(text);
      }
    } catch {
      // the pipe broke as the child died: what was read goes out below
    }
    const rest = lines.flush();
    if (rest) options.output(rest);
  };
  const pumps = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  let finished = false;
  const status = proc.status.then(async (s) => {
    await pumps;
    finished = true;
    return s;
  });
  const kill = (signal: Deno.Signal) => killQuietly(proc, signal);
  return {
    name: options.name,
    pid: proc.pid,
    status,
    done: () => finished,
    kill,
    async stop({ signal = "SIGTERM", graceMs = 10_000 } = {}) {
      if (finished) return await status;
      return await stopWithGrace({
        exited: status,
        ask: () => kill(signal),
        force: () => kill("SIGKILL"),
        graceMs,
      });
    },
  };
}

/** Children started together and stopped together, newest first. */
export class ProcessGroup {
  readonly children: Child[] = [];

  /** Starts a child (see {@link spawnChild}) and keeps it for {@link stopAll}. */
  spawn(options: SpawnOptions): Child {
    const child = spawnChild(options);
    this.children.push(child);
    return child;
  }

  /**
   * Stops every child, newest first: a cluster starts servers before their clients (target,
   * orchestrator, drivers), so clients go first and never see their server vanish mid-test.
   */
  async stopAll(options?: StopOptions): Promise<void> {
    for (const child of [...this.children].reverse()) await child.stop(options);
  }
}
