/**
 * One fleet lab per machine: the lab's addresses (198.18.0.0/24) and names (`sl-…`) are fixed,
 * so two test runs building labs at once would tear down each other's. The lock is a file made
 * with O_EXCL that names its holder by pid and the process's start time (so a reused pid is not
 * taken for the holder). A holder that died — a crashed or SIGKILLed run — is detected and its
 * lock taken over, with what its state said it had added (the route), for the new holder to
 * clean up; nothing wedges.
 */
import { sleep } from "../../shared/async.ts";

/** What the lock file holds: its holder and what the holder added to the machine. */
export interface LabLockState {
  pid: number;
  /** The holder's start time (clock ticks since boot, /proc/<pid>/stat field 22). */
  started: string;
  /** Set before the lab adds its unreachable route, so a successor knows to remove it. */
  route_added?: boolean;
}

/** A process's start time, or undefined when there is no such process. */
export async function processStart(pid: number): Promise<string | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** How the lock file's text reads: a holder, or garbage from a holder that died mid-write. */
export function parseLockState(text: string): LabLockState | undefined {
  try {
    const value = JSON.parse(text);
    if (typeof value?.pid === "number" && typeof value?.started === "string") return value;
  } catch { /* fall through */ }
  return undefined;
}

/** Options of {@link LabLock.acquire}. */
export interface AcquireOptions {
  /** How long to wait for a live holder (another test run) before giving up. */
  timeoutMs: number;
  /** Told about waiting and stale locks. */
  log: (line: string) => void;
}

/** The lab's lock, held by this process. */
export class LabLock {
  readonly path: string;
  #state: LabLockState;

  private constructor(path: string, state: LabLockState) {
    this.path = path;
    this.#state = state;
  }

  /**
   * Takes the lock, waiting for a live holder up to `timeoutMs`. Returns the lock and the state
   * of a dead holder it took over (undefined when the lock was free).
   */
  static async acquire(
    path: string,
    options: AcquireOptions,
  ): Promise<{ lock: LabLock; stale?: LabLockState }> {
    const state: LabLockState = { pid: Deno.pid, started: (await processStart(Deno.pid))! };
    const deadline = Date.now() + options.timeoutMs;
    let stale: LabLockState | undefined;
    let said = 0;
    for (;;) {
      try {
        await Deno.writeTextFile(path, JSON.stringify(state), { createNew: true, mode: 0o644 });
        return { lock: new LabLock(path, state), stale };
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
      const text = await Deno.readTextFile(path).catch(() => "");
      const holder = parseLockState(text);
      const alive = holder && (await processStart(holder.pid)) === holder.started;
      if (!alive) {
        // An unreadable file may be a holder that is still writing it: give it a moment.
        const age = await Deno.stat(path).then((s) => Date.now() - (s.mtime?.getTime() ?? 0))
          .catch(() => Infinity);
        if (holder || age > 5_000) {
          options.log(`taking over the stale lab lock ${path} (${text || "empty"})`);
          stale = holder ?? stale;
          await Deno.remove(path).catch(() => {});
          continue;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `another fleet lab holds ${path} (${text}) since over ${options.timeoutMs} ms: ` +
            "wait for it to finish, or remove the file if that process is not a test run",
        );
      }
      if (Date.now() - said > 30_000) {
        said = Date.now();
        options.log(`waiting for the fleet lab of pid ${holder?.pid} to finish (${path})`);
      }
      await sleep(500);
    }
  }

  /** Records more of what the holder added (before adding it). */
  async update(more: Partial<LabLockState>): Promise<void> {
    this.#state = { ...this.#state, ...more, pid: this.#state.pid, started: this.#state.started };
    await Deno.writeTextFile(this.path, JSON.stringify(this.#state));
  }

  /** Removes the lock file if it is still this process's. */
  async release(): Promise<void> {
    const holder = parseLockState(await Deno.readTextFile(this.path).catch(() => ""));
    if (holder?.pid === this.#state.pid && holder.started === this.#state.started) {
      await Deno.remove(this.path).catch(() => {});
    }
  }
}
