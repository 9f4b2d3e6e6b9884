/**
 * iproute2 (`ip`, `tc`) for the fleet lab: found on PATH or in /usr/sbin and /sbin, which a
 * non-login root shell may leave off its PATH, and run with their output captured so a failure
 * says what the tool said.
 */

/** A tool that is missing: the message names the Debian package that brings it. */
export class MissingToolError extends Error {
  constructor(tool: string) {
    super(`${tool} is not installed: run \`apt-get install -y iproute2\` (as root)`);
    this.name = "MissingToolError";
  }
}

/** The path of `tool` (`ip`, `tc`): on PATH, else in /usr/sbin or /sbin. */
export async function toolPath(tool: string): Promise<string> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"];
  for (const dir of dirs.filter((d) => d !== "")) {
    const path = `${dir}/${tool}`;
    if (await Deno.stat(path).then((s) => s.isFile, () => false)) return path;
  }
  throw new MissingToolError(tool);
}

/** What a command printed and how it ended. */
export interface Ran {
  success: boolean;
  /** stdout and stderr, in that order, trimmed. */
  text: string;
  stdout: string;
}

/** Runs `cmd args`, never throwing for a failed command (see {@link run}). */
export async function tryRun(cmd: string, args: readonly string[]): Promise<Ran> {
  const out = await new Deno.Command(cmd, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const text = (stdout + new TextDecoder().decode(out.stderr)).trim();
  return { success: out.success, text, stdout };
}

/** Runs `cmd args` and returns its stdout; throws with the command and its output on failure. */
export async function run(cmd: string, args: readonly string[]): Promise<string> {
  const ran = await tryRun(cmd, args);
  if (!ran.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${ran.text}`);
  return ran.stdout;
}
