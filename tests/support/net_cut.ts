/**
 * Cuts one process's TCP traffic to some ports for real, leaving every other process alone: the
 * process runs in a cgroup v2 group of its own (it moves itself there before exec'ing, so every
 * socket it ever opens belongs to the group), and an iptables rule drops the group's packets to
 * those ports. A dropped packet is what a network cut looks like to TCP: the connection stays
 * open and retransmits, and recovers once the rule is gone.
 *
 * Needs root, iptables (Debian: `apt-get install -y iptables`) and a cgroup v2 hierarchy; a
 * missing piece is an error that says what to do, never a silent pass. {@link close} removes the
 * rule and the group; call it in `finally` after killing the process.
 */
import { sleep } from "../../shared/async.ts";

/** iptables on PATH, or in /usr/sbin, which a non-login root shell may leave off its PATH. */
async function iptables(): Promise<string> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"];
  for (const dir of dirs.filter((d) => d !== "")) {
    const path = `${dir}/iptables`;
    if (await Deno.stat(path).then((s) => s.isFile, () => false)) return path;
  }
  throw new Error("iptables is not installed: run `apt-get install -y iptables` (as root)");
}

/** Runs iptables with `args`; throws with its output when it fails. */
async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (out.success) return;
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  throw new Error(`${cmd} ${args.join(" ")} failed: ${text.trim()}`);
}

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified). */
async function cgroup2Mount(): Promise<string> {
  const mounts = await Deno.readTextFile("/proc/self/mounts");
  const line = mounts.split("\n").map((l) => l.split(" ")).find((f) => f[2] === "cgroup2");
  if (line === undefined) {
    throw new Error("no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup");
  }
  return line[1]!;
}

/** One process's cut-off switch. */
export class NetCut {
  /** Put before the process's command (see ProcessGroup.spawnDeno's `wrap`). */
  readonly wrap: string[];
  #dir: string;
  #iptables: string;
  #rules: string[][];
  #cut = false;

  private constructor(iptables: string, dir: string, path: string, ports: number[]) {
    this.#iptables = iptables;
    this.#dir = dir;
    // `$0` is the group's directory, "$@" the command: the shell joins the group, then becomes it.
    this.wrap = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir];
    this.#rules = ports.map((port) => [
      "OUTPUT",
      ...["-p", "tcp", "--dport", `${port}`, "-m", "cgroup", "--path", path, "-j", "DROP"],
    ]);
  }

  /**
   * A fresh group named after `label`, with rules ready for `ports` (not in force yet). Throws a
   * message saying what is missing when this machine cannot do it.
   */
  static async create(label: string, ports: number[]): Promise<NetCut> {
    if (Deno.uid() !== 0) throw new Error("cutting a process off needs root (iptables, cgroups)");
    const cmd = await iptables();
    await run(cmd, ["--version"]);
    const name = `surge-${label}-${crypto.randomUUID().slice(0, 8)}`;
    const dir = `${await cgroup2Mount()}/${name}`;
    await Deno.mkdir(dir);
    return new NetCut(cmd, dir, `/${name}`, ports);
  }

  /** Drops the group's packets to the ports from now on. */
  async cut(): Promise<void> {
    this.#cut = true;
    for (const rule of this.#rules) await run(this.#iptables, ["-I", ...rule]);
  }

  /** Lets them through again (a no-op when not cut). */
  async restore(): Promise<void> {
    if (!this.#cut) return;
    this.#cut = false;
    for (const rule of this.#rules) await run(this.#iptables, ["-D", ...rule]).catch(() => {});
  }

  /** Restores the traffic, kills whatever is left in the group and removes it. */
  async close(): Promise<void> {
    await this.restore();
    await Deno.writeTextFile(`${this.#dir}/cgroup.kill`, "1").catch(() => {});
    for (let i = 0; i < 50; i++) {
      try {
        await Deno.remove(this.#dir);
        return;
      } catch {
        await sleep(100); // busy until the killed processes are gone
      }
    }
  }
}
