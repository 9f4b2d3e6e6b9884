/**
 * Child processes for integration and end-to-end tests: free ports, `deno` subprocesses whose
 * output is captured (and echoed with a name prefix when SURGE_TEST_VERBOSE=1), and polling.
 * Every process started here is stopped by {@link ProcessGroup.stopAll}.
 */
import { type Falsy, pollUntil } from "../../shared/async.ts";
import { canBind } from "../../shared/probe.ts";
import { type Child, ProcessGroup as Children } from "../../shared/process.ts";

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

/** A running `deno` child with its captured output. */
export interface TestProcess extends Child {
  /** Everything it printed so far, in whole lines (stdout and stderr interleaved by line). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs` or on exit. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

const verbose = Deno.env.get("SURGE_TEST_VERBOSE") === "1";

/** Starts and tracks child processes so a test can stop them all in a `finally`. */
export class ProcessGroup {
  readonly processes: TestProcess[] = [];
  #children = new Children();

  /**
   * Spawns `deno <args>` from the repository root with extra `env`. `wrap` is a command that
   * runs deno as its last arguments (and must `exec` it, so the pid stays deno's): e.g. a shell
   * that first moves itself into a cgroup, so every socket deno opens belongs to that group.
   */
  spawnDeno(
    name: string,
    args: string[],
    env: Record<string, string> = {},
    wrap: string[] = [],
  ): TestProcess {
    let text = "";
    const [cmd, ...before] = [...wrap, Deno.execPath()];
    const child = this.#children.spawn({
      name,
      cmd: cmd!,
      args: [...before, ...args],
      cwd: new URL("../..", import.meta.url).pathname,
      env: { NO_COLOR: "1", ...env },
      output: (lines) => {
        text += lines;
        if (verbose) {
          for (const line of lines.split("\n")) if (line) console.error(`[${name}] ${line}`);
        }
      },
    });
    const proc: TestProcess = {
      ...child,
      output: () => text,
      async waitForOutput(pattern, timeoutMs = 30_000) {
        // The output is complete once the child is done, so an exit ends the wait at once.
        const matchOrExit = () => text.match(pattern) ?? (child.done() ? "exited" : null);
        const what = `${name} to print ${pattern}`;
        const seen = await pollUntil(matchOrExit, { what, timeoutMs, intervalMs: 50 })
          .catch((err: Error) => {
            throw new Error(`${err.message}; it printed:\n${text}`, { cause: err });
          });
        if (seen === "exited") {
          throw new Error(`${name} exited before printing ${pattern}:\n${text}`);
        }
        return seen;
      },
    };
    this.processes.push(proc);
    return proc;
  }

  /** Stops every process, newest first (SIGTERM, SIGKILL after 10 s). */
  async stopAll(): Promise<void> {
    await this.#children.stopAll();
  }
}

/** {@link pollUntil} with the tests' defaults: every 100 ms for up to 30 s. */
export function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<Exclude<T, Falsy>> {
  return pollUntil(check, { what, timeoutMs, intervalMs });
}

/** Every process's last `lines` lines, each under its name, for a failure message. */
export function processTails(processes: readonly TestProcess[], lines: number): string {
  const tail = (c: TestProcess) => c.output().split("\n").slice(-lines).join("\n");
  return processes.map((c) => `--- ${c.name}\n${tail(c)}`).join("\n");
}

/**
 * `wait`, or on failure its error with what `explain` says beside it (the drivers' state, the
 * processes' last lines): a timeout in a multi-process test is only useful with its context.
 */
export async function explainFailure<T>(
  wait: Promise<T>,
  explain: () => Promise<string>,
): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await explain()}`);
  }
}
