/**
 * A surge cluster for fault tests with real processes: the target in this process (so its own
 * counters are at hand), an orchestrator and drivers as `deno` subprocesses on the test run's
 * broker, all on a fresh topic prefix so no other test's messages are seen. {@link close} kills
 * every process and removes the data dir; call it in `finally`.
 */
import { createTargetApp, type TargetCounters } from "../../target/app.ts";
import { api, type Json, TEST_API_TOKEN } from "./api_json.ts";
import { testBrokers, uniquePrefix } from "./kafka.ts";
import {
  eventually,
  explainFailure,
  ProcessGroup,
  processTails,
  type TestProcess,
} from "./processes.ts";

/**
 * Starts `deno run -A orchestrator/main.ts` on a free port with its store in `dataDir`, and
 * waits until it serves (it connects to Kafka after that: commands answer 503 until then). Its
 * API token is the tests' ({@link TEST_API_TOKEN}) unless `env` sets SURGE_API_TOKEN.
 */
export async function startOrchestrator(
  group: ProcessGroup,
  env: Record<string, string>,
  dataDir: string,
): Promise<{ child: TestProcess; base: string }> {
  const args = ["run", "-A", "orchestrator/main.ts", "--port", "0", "--data-dir", dataDir];
  const child = group.spawnDeno("orchestrator", args, { SURGE_API_TOKEN: TEST_API_TOKEN, ...env });
  const seen = await child.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
  return { child, base: seen[1]! };
}

/** How a driver is started beyond its node id. */
export interface DriverOptions {
  /** Extra environment (e.g. LD_PRELOAD for a faked clock). */
  env?: Record<string, string>;
  /** A command deno runs under (see {@link ProcessGroup.spawnDeno}). */
  wrap?: string[];
  /** Heartbeat interval in ms (default 1000, the orchestrator's assumption). */
  heartbeatMs?: number;
}

/** A target, an orchestrator and drivers on one topic prefix. */
export class Cluster {
  readonly group = new ProcessGroup();
  readonly brokers: string[];
  readonly prefix: string;
  readonly env: Record<string, string>;
  /** The target's own counts of what it received and answered. */
  readonly counters: TargetCounters;
  readonly targetUrl: string;
  /** The orchestrator's base URL, once {@link startOrchestrator} has returned. */
  base = "";
  #target: Deno.HttpServer<Deno.NetAddr>;
  #dataDir: string;

  private constructor(label: string, dataDir: string, brokers: string[]) {
    this.brokers = brokers;
    this.prefix = uniquePrefix(label);
    this.env = {
      KAFKA_BROKERS: this.brokers.join(","),
      SURGE_TOPIC_PREFIX: this.prefix,
      LOG_LEVEL: "info",
    };
    this.#dataDir = dataDir;
    const { app, counters } = createTargetApp();
    this.counters = counters;
    this.#target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    this.targetUrl = `http://127.0.0.1:${this.#target.addr.port}/ping`;
  }

  /**
   * Starts the target; processes come with {@link startOrchestrator} and {@link driver}. They use
   * the test run's broker unless `brokers` names another (a test's own broker).
   */
  static async create(label: string, options: { brokers?: string[] } = {}): Promise<Cluster> {
    const brokers = options.brokers ?? testBrokers();
    return new Cluster(label, await Deno.makeTempDir({ prefix: `surge-${label}-` }), brokers);
  }

  /** Starts an orchestrator on the cluster's data dir, with extra `env`; waits until it serves. */
  async startOrchestrator(env: Record<string, string> = {}): Promise<TestProcess> {
    const { child, base } = await startOrchestrator(
      this.group,
      { ...this.env, ...env },
      this.#dataDir,
    );
    this.base = base;
    return child;
  }

  /** Starts driver node `id` with one load worker. */
  driver(id: string, options: DriverOptions = {}): TestProcess {
    const args = ["run", "-A", "driver/main.ts", id, "--workers", "1"];
    if (options.heartbeatMs !== undefined) args.push("--heartbeat-ms", `${options.heartbeatMs}`);
    return this.group.spawnDeno(id, args, { ...this.env, ...options.env }, options.wrap);
  }

  /** The orchestrator's REST API. */
  api(method: string, path: string, body?: unknown): Promise<Json> {
    return api(this.base, method, path, body);
  }

  /** Waits until drivers `ids` are alive and idle (one finishing an old test takes no new one). */
  idle(ids: string[], timeoutMs = 60_000): Promise<true> {
    return this.#explained(
      eventually(`drivers ${ids} alive and idle`, async () => {
        const { drivers } = await this.api("GET", "/api/drivers");
        return ids.every((id) =>
          drivers.some((d: Json) => d.node_id === id && d.status === "alive" && d.test_id === null)
        );
      }, timeoutMs),
    );
  }

  /** Creates a test from `body` (POST /api/tests), triggers it and returns its id. */
  async run(body: Record<string, unknown>): Promise<string> {
    const { test_id: id } = await this.api("POST", "/api/tests", body);
    await this.api("POST", `/api/tests/${id}/trigger`);
    return id;
  }

  /**
   * Waits until test `id` has settled and returns its view. On a timeout the error carries the
   * test's and the drivers' last state and every process's last lines, to say why.
   */
  settled(id: string, timeoutMs = 60_000): Promise<Json> {
    let last: Json;
    return this.#explained(
      eventually(`test ${id} to settle`, async () => {
        last = await this.api("GET", `/api/tests/${id}`);
        return last.settled ? last : undefined;
      }, timeoutMs),
      () => `test: ${JSON.stringify(last?.drivers)}`,
    );
  }

  /** `wait`, failing with the drivers' state and every process's last lines beside its error. */
  #explained<T>(wait: Promise<T>, more = () => ""): Promise<T> {
    return explainFailure(wait, async () => {
      const drivers = await this.api("GET", "/api/drivers").catch(() => null);
      return `${more()}\ndrivers: ${JSON.stringify(drivers)}\n${this.tails()}`;
    });
  }

  /** Every process's last `lines` lines, for a failure message. */
  tails(lines = 15): string {
    return processTails(this.group.processes, lines);
  }

  /** Kills every process, stops the target and removes the data dir. */
  async close(): Promise<void> {
    for (const child of this.group.processes) child.kill("SIGKILL");
    await Promise.allSettled(this.group.processes.map((c) => c.status));
    await this.#target.shutdown();
    await Deno.remove(this.#dataDir, { recursive: true }).catch(() => {});
  }
}
