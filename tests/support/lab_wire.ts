/**
 * A slow, lossy link for one lab host, without `sch_netem` (this kernel has none): a userspace
 * wire process (tests/support/tap_wire.ts) runs in the switch's namespace with two TAP devices.
 * Its in-device goes to the host; its out-device's ingress is redirected (`tc … mirred`) into
 * the host's switch port, so what the wire writes enters the switch as if the host had sent it.
 * While impaired, the host's egress on `eth0` is redirected into the wire; cleared, the redirect
 * is removed and the host's frames take the kernel's path again.
 */
import type { Impairment } from "./delay_line.ts";
import { run, toolPath } from "./ip_tools.ts";
import type { TestProcess } from "./processes.ts";

/** A tc u32 filter that matches every frame (this kernel has no `matchall`). */
const EVERY_FRAME = ["protocol", "all", "u32", "match", "u32", "0", "0"];

/** What a wire needs from the lab. */
export interface WireSetup {
  /** The host: its name, namespace and switch port. */
  host: { name: string; ns: string; port: string };
  /** The switch's namespace. */
  switchNs: string;
  /** A temp dir the lab removes. */
  dir: string;
  /** Runs `ip args`, throwing on failure. */
  ip: (...args: string[]) => Promise<unknown>;
  /** Starts `deno <args>` in `ns` and tracks it (the lab kills it). */
  spawn: (name: string, ns: string, args: string[]) => TestProcess;
}

/** One host's wire. */
export class LabWire {
  #setup: WireSetup;
  #process: TestProcess;
  #control: string;
  #seq = 0;
  #routed = false;

  private constructor(setup: WireSetup, process: TestProcess, control: string) {
    this.#setup = setup;
    this.#process = process;
    this.#control = control;
  }

  /** Starts the wire and plugs its out-device into the host's switch port. */
  static async start(setup: WireSetup): Promise<LabWire> {
    const { host, switchNs, ip } = setup;
    const control = `${setup.dir}/impairment.json`;
    const [into, out] = [`w-${host.name}`, `t-${host.name}`];
    const process = setup.spawn(`wire-${host.name}`, switchNs, [
      ...["run", "--allow-ffi", `--allow-read=${control}`, "tests/support/tap_wire.ts"],
      ...[into, out, control],
    ]);
    await process.waitForOutput(/^ready /m, 30_000);
    await ip("-n", switchNs, "link", "set", into, "netns", host.ns);
    await ip("-n", host.ns, "link", "set", into, "up");
    await ip("-n", switchNs, "link", "set", out, "up");
    await tc(switchNs, "qdisc", "add", "dev", out, "clsact");
    await tc(switchNs, ...["filter", "add", "dev", out, "ingress", ...EVERY_FRAME], ...[
      ...["action", "mirred", "ingress", "redirect", "dev", host.port],
    ]);
    return new LabWire(setup, process, control);
  }

  /** Puts `impairment` in force on the host's egress ({@link CLEAR}: none); resolves once it is. */
  async set(impairment: Impairment): Promise<void> {
    const ns = this.#setup.host.ns;
    const clear = impairment.delayMs === 0 && impairment.loss === 0;
    if (clear && this.#routed) {
      await tc(ns, "qdisc", "del", "dev", "eth0", "clsact");
      this.#routed = false;
    }
    const seq = ++this.#seq;
    await Deno.writeTextFile(this.#control, JSON.stringify({ seq, ...impairment }));
    this.#process.kill("SIGHUP");
    await this.#process.waitForOutput(new RegExp(`^applied ${seq} `, "m"), 10_000);
    if (!clear && !this.#routed) {
      await tc(ns, "qdisc", "add", "dev", "eth0", "clsact");
      await tc(ns, ...["filter", "add", "dev", "eth0", "egress", ...EVERY_FRAME], ...[
        ...["action", "mirred", "egress", "redirect", "dev", `w-${this.#setup.host.name}`],
      ]);
      this.#routed = true;
    }
  }
}

async function tc(ns: string, ...args: string[]): Promise<void> {
  await run(await toolPath("tc"), ["-n", ns, ...args]);
}
