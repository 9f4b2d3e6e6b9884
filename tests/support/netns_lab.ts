/**
 * The fleet lab: hosts that are Linux network namespaces on one switch, each with its own
 * address in 198.18.0.0/24 (the range reserved for benchmark networks, RFC 2544), for tests that
 * need real hosts: a cable to pull, a link to slow down, an address that is not 127.0.0.1.
 *
 * - The switch is a bridge in a namespace of its own (`sl-switch`): deleting that namespace
 *   deletes the bridge and the switch end of every link, so nothing of it outlives the lab.
 * - Each host `sl-<name>` has `lo` and `eth0`, a veth to the switch, with its address /24, and
 *   no default route and no NAT: the only reachable addresses are the lab's and its own loopback.
 * - A host's link can be slowed down and made lossy ({@link Lab.impair}) by a userspace wire,
 *   since this kernel has no `sch_netem` (tests/support/lab_wire.ts).
 * - The test process runs in the root namespace, where other people's processes run too. It gets
 *   one veth on the switch with 198.18.0.254/24, so it speaks to the hosts with plain `fetch` and
 *   kafkajs, rather than running every client under `ip netns exec`. Before any address exists,
 *   the lab makes sure `unreachable 198.18.0.0/15` is routed in the root namespace: the lab's
 *   connected /24 wins over it, and nothing else of 198.18/15 can ever leave the machine.
 *
 * One lab per machine (tests/support/lab_lock.ts). It first removes what a crashed lab left
 * (namespaces and links named `sl-…`, its route), and {@link Lab.close} removes every process,
 * namespace, link, the route if it added it, and its temp dirs, also after a partial set-up.
 */
import { ProcessGroup, type TestProcess } from "./processes.ts";
import { run, toolPath, tryRun } from "./ip_tools.ts";
import { LabLock, type LabLockState } from "./lab_lock.ts";
import type { Impairment } from "./delay_line.ts";
import { LabWire } from "./lab_wire.ts";
import { sleep } from "../../shared/async.ts";

const PREFIX = "sl-";
const SWITCH = "sl-switch";
const BRIDGE = "br0";
/** The root namespace's end of its link to the switch. */
const ROOT_LINK = "sl-lab";
/** The lab's hosts' network. */
export const LAB_NET = "198.18.0";
/** The test process's address on the switch. */
export const ROOT_ADDRESS = `${LAB_NET}.254`;
/** Routed nowhere in the root namespace, so lab traffic cannot leave the machine. */
export const GUARD_ROUTE = "198.18.0.0/15";
/** The lab lock (tests/support/lab_lock.ts). */
export const LAB_LOCK_FILE = "/tmp/surge-fleet-lab.lock";
/** Another test run's lab may take this long (the fleet tests take about 6 minutes). */
const LOCK_WAIT_MS = 15 * 60_000;

/** One host of the lab. */
export interface LabHost {
  name: string;
  /** Its network namespace. */
  ns: string;
  address: string;
  /** The switch's end of its link (a port of the bridge). */
  port: string;
  /** The wire for its impairment, once {@link Lab.impair} made one. */
  wire?: LabWire;
}

/** Why this machine cannot build a lab (not root, no iproute2, no namespaces), or undefined. */
export async function labUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "network namespaces need root";
  let ip: string;
  try {
    ip = await toolPath("ip");
  } catch (err) {
    return (err as Error).message;
  }
  const probe = `${PREFIX}probe-${Deno.pid}`;
  const made = await tryRun(ip, ["netns", "add", probe]);
  await tryRun(ip, ["netns", "del", probe]);
  if (!made.success) return `\`ip netns add\` fails here: ${made.text}`;
  if (!(await Deno.stat("/dev/net/tun").then(() => true, () => false))) {
    return "/dev/net/tun is missing (the lab's wire needs TAP devices)";
  }
  return undefined;
}

/** A lab being built or in use; {@link close} it in `finally`. */
export class Lab {
  readonly group = new ProcessGroup();
  readonly hosts = new Map<string, LabHost>();
  #ip: string;
  #lock: LabLock;
  #log: (line: string) => void;
  #addedRoute = false;
  #tempDirs: string[] = [];

  private constructor(ip: string, lock: LabLock, log: (line: string) => void) {
    this.#ip = ip;
    this.#lock = lock;
    this.#log = log;
  }

  /** Takes the lab lock, removes a crashed lab's leftovers and builds the switch. */
  static async open(log = (line: string) => console.error(`[lab] ${line}`)): Promise<Lab> {
    const ip = await toolPath("ip");
    const { lock, stale } = await LabLock.acquire(LAB_LOCK_FILE, { timeoutMs: LOCK_WAIT_MS, log });
    const lab = new Lab(ip, lock, log);
    try {
      await lab.#removeLeftovers(stale);
      await lab.#buildSwitch();
    } catch (err) {
      await lab.close().catch(() => {});
      throw err;
    }
    return lab;
  }

  #cmd(...args: string[]): Promise<string> {
    return run(this.#ip, args);
  }

  /** Namespaces and root-namespace links named `sl-…` are a lab's: under the lock, a dead one's. */
  async #removeLeftovers(stale: LabLockState | undefined): Promise<void> {
    const namespaces = await this.#labNamespaces();
    const links = await this.#rootLinks();
    if (namespaces.length + links.length > 0) {
      this.#log(`removing an earlier lab's leftovers: ${[...namespaces, ...links].join(", ")}`);
    }
    await this.#killIn(namespaces);
    for (const ns of namespaces) await this.#cmd("netns", "del", ns);
    for (const link of links) await tryRun(this.#ip, ["link", "del", link]);
    if (stale?.route_added) await tryRun(this.#ip, ["route", "del", "unreachable", GUARD_ROUTE]);
  }

  async #labNamespaces(): Promise<string[]> {
    const text = await this.#cmd("netns", "list");
    return text.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n.startsWith(PREFIX));
  }

  async #rootLinks(): Promise<string[]> {
    const text = await this.#cmd("-o", "link", "show");
    // "12: sl-lab@if11: <…" — the name, less the peer's index.
    return text.split("\n").map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
      .filter((n) => n.startsWith(PREFIX));
  }

  async #buildSwitch(): Promise<void> {
    const routes = await this.#cmd("route", "show", GUARD_ROUTE);
    if (!routes.includes(`unreachable ${GUARD_ROUTE}`)) {
      await this.#lock.update({ route_added: true }); // before: a crash now still gets it removed
      await this.#cmd("route", "add", "unreachable", GUARD_ROUTE);
      this.#addedRoute = true;
    }
    await this.#cmd("netns", "add", SWITCH);
    await this.#cmd("-n", SWITCH, "link", "add", BRIDGE, "type", "bridge");
    await this.#cmd("-n", SWITCH, "link", "set", BRIDGE, "up");
    await this.#cmd(
      ...["link", "add", ROOT_LINK, "type", "veth"],
      ...["peer", "name", "p-root", "netns", SWITCH],
    );
    await this.#cmd("-n", SWITCH, "link", "set", "p-root", "master", BRIDGE, "up");
    await this.#cmd("addr", "add", `${ROOT_ADDRESS}/24`, "dev", ROOT_LINK);
    await this.#cmd("link", "set", ROOT_LINK, "up");
  }

  /** Adds host `name` (1–10 of a-z0-9) at 198.18.0.`octet` (1–253). */
  async addHost(name: string, octet: number): Promise<LabHost> {
    // "switch" and "root" are taken: the switch's namespace, the root namespace's port.
    if (!/^[a-z0-9]{1,10}$/.test(name) || this.hosts.has(name) || /^(switch|root)$/.test(name)) {
      throw new TypeError(`bad or repeated lab host name: ${name}`);
    }
    if (!Number.isInteger(octet) || octet < 1 || octet > 253) {
      throw new TypeError(`lab host ${name}: octet ${octet} is not in 1-253`);
    }
    const host: LabHost = {
      name,
      ns: `${PREFIX}${name}`,
      address: `${LAB_NET}.${octet}`,
      port: `p-${name}`,
    };
    this.hosts.set(name, host);
    await this.#cmd("netns", "add", host.ns);
    await this.#cmd("-n", host.ns, "link", "set", "lo", "up");
    await this.#cmd(
      ...["-n", SWITCH, "link", "add", host.port, "type", "veth"],
      ...["peer", "name", "eth0", "netns", host.ns],
    );
    await this.#cmd("-n", host.ns, "addr", "add", `${host.address}/24`, "dev", "eth0");
    await this.#cmd("-n", host.ns, "link", "set", "eth0", "up");
    await this.#cmd("-n", SWITCH, "link", "set", host.port, "master", BRIDGE, "up");
    return host;
  }

  /** Starts `deno <args>` on `host` (under `ip netns exec`), tracked until {@link close}. */
  spawnDeno(
    host: LabHost,
    name: string,
    args: string[],
    env: Record<string, string> = {},
  ): TestProcess {
    return this.group.spawnDeno(name, args, env, [this.#ip, "netns", "exec", host.ns]);
  }

  /** Runs `cmd args` on `host` to its end; never throws for a failed command. */
  exec(host: LabHost, cmd: string, args: string[]) {
    return tryRun(this.#ip, ["netns", "exec", host.ns, cmd, ...args]);
  }

  /** Pulls the host's cable at the switch: its port goes down, the host keeps its address. */
  async linkDown(host: LabHost): Promise<void> {
    await this.#cmd("-n", SWITCH, "link", "set", host.port, "down");
  }

  /** Plugs it in again. */
  async linkUp(host: LabHost): Promise<void> {
    await this.#cmd("-n", SWITCH, "link", "set", host.port, "up");
  }

  /**
   * Delays and drops the frames `host` sends, as `tc qdisc add dev eth0 root netem delay D loss
   * P` on the host would (tests/support/lab_wire.ts); {@link CLEAR} lifts it. Resolves once it
   * is in force.
   */
  async impair(host: LabHost, impairment: Impairment): Promise<void> {
    host.wire ??= await LabWire.start({
      host,
      switchNs: SWITCH,
      dir: await this.tempDir(`wire-${host.name}`),
      ip: (...args) => this.#cmd(...args),
      spawn: (name, ns, args) =>
        this.group.spawnDeno(name, args, {}, [this.#ip, "netns", "exec", ns]),
    });
    await host.wire.set(impairment);
  }

  /** A temp dir removed by {@link close}. */
  async tempDir(label: string): Promise<string> {
    const dir = await Deno.makeTempDir({ prefix: `surge-lab-${label}-` });
    this.#tempDirs.push(dir);
    return dir;
  }

  /** The processes running in namespace `ns` (a host's: `host.ns`), whoever started them. */
  async pids(ns: string): Promise<number[]> {
    const out = await tryRun(this.#ip, ["netns", "pids", ns]);
    return out.stdout.split(/\s+/).filter((p) => p !== "").map(Number);
  }

  /** SIGKILLs every process in `namespaces` (JVMs under a guard included) and waits them out. */
  async #killIn(namespaces: string[]): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const pids: number[] = [];
      for (const ns of namespaces) pids.push(...await this.pids(ns));
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
      }
      await sleep(100);
    }
    throw new Error(`processes in ${namespaces.join(", ")} survived SIGKILL for 10 s`);
  }

  /**
   * Removes everything the lab made: processes, namespaces (with the bridge and every link), the
   * root namespace's link, the route if it added it, temp dirs, and the lock. Safe after a
   * partial set-up and to call twice; throws after trying everything if something stayed.
   */
  async close(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    for (const child of this.group.processes) child.kill("SIGKILL");
    await attempt(
      "killing the lab's processes",
      async () => this.#killIn(await this.#labNamespaces()),
    );
    await attempt(
      "waiting for the lab's processes",
      () =>
        Promise.race([
          Promise.allSettled(this.group.processes.map((c) => c.status)),
          sleep(10_000),
        ]),
    );
    await attempt("deleting the namespaces", async () => {
      for (const ns of await this.#labNamespaces()) await this.#cmd("netns", "del", ns);
    });
    await attempt("deleting the root link", async () => {
      for (const link of await this.#rootLinks()) {
        // Deleting a namespace takes its veth peers with it, after `netns del` has returned.
        await this.#cmd("link", "del", link).catch((err: Error) => {
          if (!/Cannot find device/.test(err.message)) throw err;
        });
      }
    });
    if (this.#addedRoute) {
      await attempt(
        "deleting the route",
        () => this.#cmd("route", "del", "unreachable", GUARD_ROUTE),
      );
      this.#addedRoute = false;
    }
    for (const dir of this.#tempDirs.splice(0)) {
      await attempt(`removing ${dir}`, () => Deno.remove(dir, { recursive: true }));
    }
    await attempt("releasing the lock", () => this.#lock.release());
    if (problems.length > 0) throw new Error(`the lab left things behind:\n${problems.join("\n")}`);
  }
}
