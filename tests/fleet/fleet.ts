/**
 * A surge fleet on the lab's hosts (tests/support/netns_lab.ts): three Kafka nodes forming one
 * KRaft cluster (198.18.0.1–3), the orchestrator (.4), the target (.5) and drivers d1, d2, …
 * (.11, .12, …), each process started on its host from its deno.json task (up/plan.ts
 * `taskCommand`) with the extra grants the lab's addresses need: the tasks may reach 127.0.0.1
 * only (README "Least privilege"). Everything runs on a fresh topic prefix; the lab's `close`
 * removes every process and directory.
 */
import denoJson from "../../deno.json" with { type: "json" };
import { taskCommand } from "../../up/plan.ts";
import { api, AUTH, type Json, TEST_API_TOKEN } from "../support/api_json.ts";
import { uniquePrefix } from "../support/kafka.ts";
import type { Lab, LabHost } from "../support/netns_lab.ts";
import {
  eventually,
  explainFailure,
  processTails,
  type TestProcess,
} from "../support/processes.ts";

const KAFKA_PORT = 9092;
const CONTROLLER_PORT = 9093;
const ORCHESTRATOR_PORT = 8000;
const TARGET_PORT = 8080;
/** Drivers d1, d2, … live at 198.18.0.(10 + n). */
const DRIVER_OCTET_BASE = 10;

/**
 * Three JVMs share 2 cores with 12 Deno processes: C1 only, one compiler thread, one GC thread
 * each. Idle, the three nodes then took 44 % of a core instead of 85 % here (C1 alone), so the
 * drivers' heartbeats keep time.
 */
const JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:ParallelGCThreads=1 " +
  "-XX:ConcGCThreads=1";

/** A driver of the fleet. */
export interface FleetDriver {
  name: string;
  host: LabHost;
  process: TestProcess;
}

/** The processes of a fleet on a lab, and its REST API. */
export class Fleet {
  readonly lab: Lab;
  readonly prefix = uniquePrefix("fleet");
  readonly brokers: LabHost[] = [];
  readonly drivers = new Map<string, FleetDriver>();
  readonly brokerList: string;
  #t0 = Date.now();
  base = "";
  targetUrl = "";
  #target: LabHost | undefined;

  private constructor(lab: Lab, brokerHosts: LabHost[]) {
    this.lab = lab;
    this.brokers.push(...brokerHosts);
    this.brokerList = brokerHosts.map((b) => `${b.address}:${KAFKA_PORT}`).join(",");
  }

  /** Says what the fleet is doing, with the seconds since it started (and keeps CI's watchdog fed). */
  say(line: string): void {
    console.error(`[fleet +${((Date.now() - this.#t0) / 1000).toFixed(1)}s] ${line}`);
  }

  /** Builds the hosts and starts Kafka, the target and the orchestrator. */
  static async start(lab: Lab): Promise<Fleet> {
    const brokers = [];
    for (const n of [1, 2, 3]) brokers.push(await lab.addHost(`b${n}`, n));
    const fleet = new Fleet(lab, brokers);
    fleet.say(`starting 3 Kafka nodes on ${fleet.brokerList} (topic prefix ${fleet.prefix})`);
    await Promise.all(brokers.map((host, i) => fleet.#startBroker(host, i + 1)));
    fleet.say("Kafka is ready");
    await Promise.all([
      fleet.#startTarget(await lab.addHost("target", 5)),
      fleet.#startOrchestrator(await lab.addHost("orch", 4)),
    ]);
    fleet.say(`orchestrator at ${fleet.base}, target at ${fleet.targetUrl}`);
    return fleet;
  }

  /** The Kafka environment of every surge process. */
  get env(): Record<string, string> {
    return { KAFKA_BROKERS: this.brokerList, SURGE_TOPIC_PREFIX: this.prefix };
  }

  async #startBroker(host: LabHost, nodeId: number): Promise<void> {
    const dir = await this.lab.tempDir(`kafka-${nodeId}`);
    const controllers = this.brokers.map((b, i) => `${i + 1}@${b.address}:${CONTROLLER_PORT}`);
    const { args } = taskCommand(denoJson.tasks, "kafka", Deno.execPath(), [
      ...["--node-id", `${nodeId}`, "--listen", `${host.address}:${KAFKA_PORT}`],
      ...["--advertise", `${host.address}:${KAFKA_PORT}`, "--controllers", controllers.join(",")],
      ...["--data-dir", dir, "--prefix", this.prefix],
    ], [
      `--allow-net=${this.brokers.map((b) => b.address).join(",")}`,
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
    ]);
    const env = {
      // The test run's KAFKA_BROKERS (its own broker) must not reach a node: with it, `deno task
      // kafka` starts nothing and only creates topics there. Empty counts as unset.
      KAFKA_BROKERS: "",
      SURGE_TOPIC_PREFIX: this.prefix,
      JAVA_TOOL_OPTIONS: JVM_OPTIONS,
    };
    const child = this.lab.spawnDeno(host, `kafka-${nodeId}`, args, env);
    await child.waitForOutput(/^Kafka .* ready on /m, 180_000);
  }

  async #startTarget(host: LabHost): Promise<void> {
    this.#target = host;
    const { args } = taskCommand(denoJson.tasks, "target", Deno.execPath(), [], [
      `--allow-net=${host.address}`,
    ]);
    const child = this.lab.spawnDeno(host, "target", args, {
      HOST: host.address,
      PORT: `${TARGET_PORT}`,
    });
    await child.waitForOutput(/listening on /, 60_000);
    this.targetUrl = `http://${host.address}:${TARGET_PORT}/ping`;
  }

  async #startOrchestrator(host: LabHost): Promise<void> {
    const dir = await this.lab.tempDir("orchestrator");
    const { args } = taskCommand(denoJson.tasks, "orchestrator", Deno.execPath(), [
      ...["--host", host.address, "--public-host", host.address],
      ...["--port", `${ORCHESTRATOR_PORT}`, "--data-dir", dir],
    ], [
      `--allow-net=${this.brokerList},${host.address}`,
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
    ]);
    const child = this.lab.spawnDeno(host, "orchestrator", args, {
      ...this.env,
      SURGE_API_TOKEN: TEST_API_TOKEN,
    });
    const seen = await child.waitForOutput(/listening on (http:\/\/[\d.]+:\d+)/, 60_000);
    this.base = seen[1]!;
  }

  /** Adds host `d<n>` at 198.18.0.(10 + n) and starts driver `d<n>` on it, one load worker. */
  async startDriver(n: number): Promise<FleetDriver> {
    const name = `d${n}`;
    const host = await this.lab.addHost(name, DRIVER_OCTET_BASE + n);
    const { args } = taskCommand(denoJson.tasks, "driver", Deno.execPath(), [
      name,
      "--workers",
      "1",
    ]);
    const driver = { name, host, process: this.lab.spawnDeno(host, name, args, this.env) };
    this.drivers.set(name, driver);
    return driver;
  }

  /** The pid of Kafka node `nodeId`'s JVM (found in its host's namespace, not its guard's). */
  async brokerJvm(nodeId: number): Promise<number> {
    const host = this.brokers[nodeId - 1]!;
    for (const pid of await this.lab.pids(host.ns)) {
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
      if (cmdline.split("\0").includes("kafka.Kafka")) return pid;
    }
    throw new Error(`no kafka.Kafka JVM runs on ${host.name}`);
  }

  /** The drivers whose process runs, in the order they were started. */
  members(): string[] {
    return [...this.drivers.values()].filter((d) => !d.process.done()).map((d) => d.name);
  }

  /** The driver named `name`; throws for one never started. */
  driver(name: string): FleetDriver {
    const driver = this.drivers.get(name);
    if (!driver) throw new TypeError(`no driver ${name} in the fleet`);
    return driver;
  }

  /** The orchestrator's REST API. */
  api(method: string, path: string, body?: unknown): Promise<Json> {
    return api(this.base, method, path, body);
  }

  /** The target's own count of requests received (its /metrics). */
  async targetReceived(): Promise<number> {
    const res = await fetch(`http://${this.#target!.address}:${TARGET_PORT}/metrics`);
    return (await res.json()).requests_received;
  }

  /**
   * Waits until the orchestrator hears Kafka and commands the fleet (after a long silence on a
   * busy machine it may have to win its election group back), no test is open, and drivers
   * `names` are alive and idle; returns the drivers.
   */
  idle(names: string[], timeoutMs = 90_000): Promise<Json> {
    return this.until(
      `drivers ${names} alive and idle`,
      async () => {
        const health = await (await fetch(`${this.base}/healthz`)).json();
        if (!health.ok || health.role !== "active") return false;
        // A test that a failed scenario left open would refuse the next trigger.
        const { tests } = await this.api("GET", "/api/tests");
        if (tests.some((t: Json) => t.state !== "created" && !t.settled)) return false;
        const { drivers } = await this.api("GET", "/api/drivers");
        const ready = names.every((id) =>
          drivers.some((d: Json) => d.node_id === id && d.status === "alive" && d.test_id === null)
        );
        return ready && drivers;
      },
      timeoutMs,
      250,
    );
  }

  /**
   * Creates a test from `body`, triggers it on every alive driver and returns its id. A command
   * answered 503 (an orchestrator winning its election group back after a silence on a busy
   * machine says "try again in a few seconds") is sent again, for up to 30 s.
   */
  async run(body: Record<string, unknown>): Promise<string> {
    const command = async (path: string, body?: unknown): Promise<Json> => {
      const answer = await this.until(
        `POST ${path} taken`,
        async () => {
          const res = await fetch(`${this.base}${path}`, {
            method: "POST",
            headers: body === undefined ? AUTH : { ...AUTH, "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const json = await res.json();
          return res.status !== 503 && { ok: res.ok, status: res.status, json };
        },
        30_000,
        500,
      );
      if (!answer.ok) {
        throw new Error(`POST ${path} -> ${answer.status}: ${JSON.stringify(answer.json)}`);
      }
      return answer.json;
    };
    const { test_id: id } = await command("/api/tests", body);
    await command(`/api/tests/${id}/trigger`);
    return id;
  }

  /**
   * Polls `check` until it returns a truthy value (see `eventually`); on a timeout the error
   * carries the drivers' state and every process's last lines, to say why.
   */
  until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 60_000, intervalMs = 100) {
    return this.#explained(eventually(what, check, timeoutMs, intervalMs));
  }

  /** Waits until test `id` has settled and returns its view. */
  settled(id: string, timeoutMs = 90_000): Promise<Json> {
    let last: Json;
    return this.#explained(
      eventually(
        `test ${id} to settle`,
        async () => {
          last = await this.api("GET", `/api/tests/${id}`);
          return last.settled ? last : undefined;
        },
        timeoutMs,
        200,
      ),
      () => `test: ${JSON.stringify(last?.drivers)}`,
    );
  }

  /**
   * Waits until test `id` has settled and then, for up to the 30 s a settled test still takes
   * late reports, until every driver of `names` has its final report counted. Returns the view
   * at the settlement and the complete one, and names the drivers that were counted lost at the
   * settlement (whose reports came later).
   */
  async complete(
    id: string,
    names: string[],
    timeoutMs = 90_000,
  ): Promise<{ settled: Json; view: Json; lost: string[] }> {
    const settled = await this.settled(id, timeoutMs);
    const lost = names.filter((n) => settled.drivers[n]?.status === "lost");
    let last: Json = settled;
    const view = await this.until(
      `every final report of test ${id}`,
      async () => {
        last = await this.api("GET", `/api/tests/${id}`);
        return names.every((n) => last.drivers[n]?.final) && last;
      },
      30_000,
      250,
    ).catch((err) => {
      const drivers = Object.entries(last.drivers).map(([n, d]: [string, Json]) =>
        `${n} ${d.status} final=${d.final} requests=${d.requests} report=${d.report_id}`
      ).join(", ");
      throw new Error(`${err.message}\nsettled ${settled.state} (${settled.reason}); ${drivers}`);
    });
    if (lost.length > 0) {
      const why = lost.map((n) => `${n} (${settled.drivers[n].lost_reason})`).join(", ");
      this.say(`test ${id}: counted lost at the settlement, final report counted later: ${why}`);
    }
    return { settled, view, lost };
  }

  /** `wait`, failing with the drivers' state and every process's last lines beside its error. */
  #explained<T>(wait: Promise<T>, more = () => ""): Promise<T> {
    return explainFailure(wait, async () => {
      const drivers = await this.api("GET", "/api/drivers").catch(() => null);
      return `${more()}\ndrivers: ${JSON.stringify(drivers)}\n${this.tails()}`;
    });
  }

  /** Every process's last `lines` lines, for a failure message. */
  tails(lines = 25): string {
    return processTails(this.lab.group.processes, lines);
  }
}
