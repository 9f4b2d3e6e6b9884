/**
 * An orchestrator on a MemoryBus (real encode/parse), an in-memory or file store and a manual
 * clock, for unit tests of the controller and the app. Its app takes the tests' API token, and
 * {@link call} sends it.
 */
import { createTestBody, type TestParams, type TestParamsInput } from "../../shared/api.ts";
import { MemoryBus } from "../../shared/bus.ts";
import type { FleetKey } from "../../shared/fleet_key.ts";
import { createLogger } from "../../shared/log.ts";
import type { MetricsMessage } from "../../shared/messages.ts";
import { createOrchestratorApp, type OrchestratorAppDeps } from "../../orchestrator/app.ts";
import { Controller, type ControllerOptions } from "../../orchestrator/controller.ts";
import { Store } from "../../orchestrator/store.ts";
import type { ApiAccess } from "../../orchestrator/api_access.ts";
import { AUTH, TEST_API_TOKEN } from "../support/api_json.ts";

/**
 * The harness app's access rules: the tests' token, and the one host `app.request("/path")`
 * sends (its URL is http://localhost/path, without a Host header).
 */
export const HARNESS_ACCESS: ApiAccess = {
  token: TEST_API_TOKEN,
  servesHost: (host) => host === "localhost",
};

/** A clock the test moves by hand. */
export class ManualClock {
  t = 1_800_000_000_000;
  now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Harness {
  bus: MemoryBus;
  store: Store;
  clock: ManualClock;
  controller: Controller;
  app: ReturnType<typeof createOrchestratorApp>;
  /** A heartbeat, busy with `testId` or idle (null), from run `instanceId` if given. */
  heartbeat(nodeId: string, testId?: string | null, instanceId?: string): Promise<void>;
  register(nodeId: string): Promise<void>;
  metrics(message: MetricsMessage): Promise<void>;
  /** Messages the orchestrator published on `kind`, parsed. */
  published(kind: "test_config" | "trigger"): Record<string, unknown>[];
  /** The orchestrator's log lines at warn level and above. */
  warnings: string[];
  close(): Promise<void>;
}

/** Builds and starts an orchestrator; close it at the end of the test. */
export async function createHarness(
  options: {
    store?: Store;
    bus?: MemoryBus;
    clock?: ManualClock;
    controller?: Partial<ControllerOptions>;
    app?: Partial<OrchestratorAppDeps>;
    /** False: the controller is built but not started (no subscriptions, nothing recovered). */
    start?: boolean;
    fleetKey?: FleetKey;
  } = {},
): Promise<Harness> {
  const bus = options.bus ?? new MemoryBus();
  const store = options.store ?? new Store(":memory:");
  const clock = options.clock ?? new ManualClock();
  const warnings: string[] = [];
  const logger = createLogger({}, { level: "warn", sink: (line) => warnings.push(line) });
  let ids = 0;
  const controller = new Controller({
    bus,
    store,
    logger,
    now: clock.now,
    newTestId: () => `t${++ids}`,
    fleetKey: options.fleetKey,
    options: {
      heartbeatMs: 1000,
      lostAfter: 3,
      metricsGroupId: "metrics",
      liveGroupId: "live",
      sweepMs: 0,
      drainTimeoutMs: 5000,
      ...options.controller,
    },
  });
  if (options.start !== false) await controller.start();
  const app = createOrchestratorApp({
    controller,
    logger,
    invalid: bus.invalid,
    storage: () => store.health(),
    now: clock.now,
    access: HARNESS_ACCESS,
    ...options.app,
  });
  return {
    bus,
    store,
    clock,
    controller,
    app,
    heartbeat: (nodeId, testId = null, instanceId) =>
      bus.publish("heartbeat", {
        node_id: nodeId,
        heartbeat: "YES",
        timestamp: clock.t,
        test_id: testId,
        ...(instanceId === undefined ? {} : { instance_id: instanceId }),
      }),
    register: (nodeId) =>
      bus.publish("register", {
        node_id: nodeId,
        node_IP: "127.0.0.1",
        message_type: "DRIVER_NODE_REGISTER",
        timestamp: clock.t,
      }),
    metrics: (message) => bus.publish("metrics", message),
    warnings,
    published: (kind) =>
      bus.log.filter((e) => e.kind === kind).map((e) =>
        JSON.parse(e.raw) as Record<string, unknown>
      ),
    close: async () => {
      await controller.close();
      store.close();
    },
  };
}

/** A valid POST /api/tests body (fields with defaults left out). */
export const AVALANCHE = {
  test_type: "AVALANCHE",
  test_message_delay: 0,
  message_count_per_driver: 100,
  target_url: "http://127.0.0.1:8080/ping",
} satisfies TestParamsInput;

/** {@link AVALANCHE} as the controller receives it: validated, defaults filled in. */
export function avalanche(overrides: Partial<TestParamsInput> = {}): TestParams {
  return createTestBody.parse({ ...AVALANCHE, ...overrides });
}

/** Sends a JSON request to an app, with the tests' API token. */
export async function call(
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; text: string; type: string }> {
  const init: RequestInit = { method, headers: AUTH };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers = { ...AUTH, "content-type": "application/json" };
  }
  const res = await app.request(path, init);
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  let parsed: Record<string, unknown> = {};
  if (type.includes("json")) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, text, type };
}
