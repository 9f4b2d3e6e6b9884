/**
 * CPU time of another process, from Linux's /proc/<pid>/stat: user + system time of all its
 * threads (the JIT's and the garbage collector's included), in clock ticks. The parse is pure;
 * {@link cpuReader} does the reading.
 */

/**
 * User + system CPU ticks from the text of /proc/<pid>/stat. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so fields are counted after the last
 * ")": utime and stime are fields 14 and 15.
 */
export function parseProcStat(text: string): number {
  const end = text.lastIndexOf(")");
  const fields = end < 0 ? [] : text.slice(end + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state).
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new RangeError(`Not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  }
  return utime + stime;
}

/** Reads a process's CPU time in milliseconds. */
export type CpuReader = () => Promise<number>;

/** Clock ticks per second (`getconf CLK_TCK`), 100 where it cannot be asked. */
async function ticksPerSecond(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
    const ticks = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/**
 * A reader of process `pid`'s CPU time (user + system, every thread) in ms. Deno lets only a
 * process with --allow-all read another's /proc files, so `cat` reads it.
 */
export async function cpuReader(pid: number): Promise<CpuReader> {
  const msPerTick = 1000 / await ticksPerSecond();
  return async () => {
    const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" })
      .output();
    if (!out.success) throw new Error(`cannot read /proc/${pid}/stat: has the process exited?`);
    return parseProcStat(new TextDecoder().decode(out.stdout)) * msPerTick;
  };
}
