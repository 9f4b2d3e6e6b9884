/**
 * Child processes for integration and end-to-end tests: free ports, `deno` subprocesses whose
 * output is captured (and echoed with a name prefix when SURGE_TEST_VERBOSE=1), and waiting for
 * HTTP endpoints. Every process started here is killed by {@link ProcessGroup.stopAll}.
 */

import { canBind } from "../../shared/probe.ts";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * A free port whose successor is free too: a local Kafka broker listens on port + 1 for its
 * KRaft controller, and an ephemeral port picked alone may sit right below a busy one.
 */
export function freePortPair(): number {
  for (;;) {
    const port = freePort();
    if (port < 65535 && canBind(port + 1)) return port;
  }
}

/** A running child with its captured output. */
export interface TestProcess {
  name: string;
  child: Deno.ChildProcess;
  /** Everything it printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs` or on exit. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` without waiting (for a test that kills on purpose, then awaits `status`). */
  kill(signal?: Deno.Signal): void;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<Deno.CommandStatus>;
  status: Promise<Deno.CommandStatus>;
}

const verbose = Deno.env.get("SURGE_TEST_VERBOSE") === "1";

/** Starts and tracks child processes so a test can stop them all in a `finally`. */
export class ProcessGroup {
  readonly processes: TestProcess[] = [];

  /** Spawns `deno <args>` from the repository root with extra `env`. */
  spawnDeno(name: string, args: string[], env: Record<string, string> = {}): TestProcess {
    const root = new URL("../..", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args,
      env: { NO_COLOR: "1", ...env },
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let text = "";
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        if (verbose) {
          for (const line of chunk.split("\n")) if (line) console.error(`[${name}] ${line}`);
        }
      }
    };
    const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]).catch(() => {});
    const status = child.status.then(async (s) => {
      await pumps;
      return s;
    });
    let exited = false;
    status.then(() => exited = true);
    const proc: TestProcess = {
      name,
      child,
      status,
      output: () => text,
      async waitForOutput(pattern, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const match = text.match(pattern);
          if (match) return match;
          if (exited) throw new Error(`${name} exited before printing ${pattern}:\n${text}`);
          if (Date.now() > deadline) throw new Error(`${name} did not print ${pattern}:\n${text}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      kill(signal = "SIGKILL") {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      },
      async stop(signal = "SIGTERM", graceMs = 10_000) {
        if (!exited) {
          try {
            child.kill(signal);
          } catch { /* already gone */ }
        }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, graceMs);
        const s = await status;
        clearTimeout(timer);
        return s;
      },
    };
    this.processes.push(proc);
    return proc;
  }

  /** Stops every process, newest first. */
  async stopAll(): Promise<void> {
    for (const proc of [...this.processes].reverse()) await proc.stop().catch(() => {});
  }
}

/** Polls `url` until it answers with a 2xx, or throws after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}

/** Polls `check` until it returns a truthy value, which is returned; throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}
