/**
 * What each route of the table in api_routes.ts does: read the validated request, ask the
 * controller, answer with a body typed by the contract (shared/api.ts). A handler that cannot
 * answer throws an ApiError (errors.ts), which the app's `onError` turns into its response.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import type { InvalidCounts } from "../shared/bus.ts";
import type { Routes } from "./api_routes.ts";
import type { Controller } from "./controller.ts";
import type { StorageHealth } from "./database.ts";
import { ConflictError } from "./errors.ts";
import type { Leadership } from "./kafka_election.ts";
import { csvReport } from "./report.ts";

/** What the handlers need. */
export interface HandlerDeps {
  controller: Controller;
  /** The bus's counts of skipped invalid messages, for `/healthz`. */
  invalid?: InvalidCounts;
  /** How the store's writes are faring, for `/healthz`; absent: always writable. */
  storage?: () => StorageHealth;
  /** Called after `POST /api/shutdown` has been answered; absent means shutdown is refused. */
  shutdown?: () => void;
  now: () => number;
  /** Whether this orchestrator is the active one; absent: it always is (a single orchestrator). */
  leadership?: Leadership;
}

/** One handler per route of the table, under the same name. */
export type Handlers = { [K in keyof Routes]: RouteHandler<Routes[K]> };

/** The handlers of every route; `/healthz` counts its uptime from this call. */
export function createHandlers(deps: HandlerDeps): Handlers {
  const { controller, now } = deps;
  const startedAt = now();
  return {
    drivers: (c) => c.json({ drivers: controller.drivers() }, 200),
    createTest: async (c) => c.json(await controller.createTest(c.req.valid("json")), 201),
    listTests: (c) => c.json({ tests: controller.listTests() }, 200),
    getTest: (c) => c.json(controller.getTest(c.req.valid("param").test_id), 200),
    deleteTest: (c) => {
      controller.deleteTest(c.req.valid("param").test_id);
      return c.body(null, 204);
    },
    trigger: async (c) => c.json(await controller.trigger(c.req.valid("param").test_id), 200),
    stop: async (c) => c.json(await controller.stop(c.req.valid("param").test_id), 200),
    timeseries: (c) => c.json(controller.timeseries(c.req.valid("param").test_id), 200),
    report: (c) => {
      const { test_id } = c.req.valid("param");
      const test = controller.getTest(test_id);
      if (c.req.valid("query").format === "csv") {
        return c.body(csvReport(test), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="surge-${test_id}.csv"`,
        });
      }
      return c.json({ test, timeseries: controller.timeseries(test_id) }, 200);
    },
    end: async (c) =>
      c.json({ drivers: await controller.endDrivers(c.req.valid("json").drivers) }, 200),
    shutdown: (c) => {
      const shutdown = deps.shutdown;
      if (!shutdown) throw new ConflictError("Shutdown over HTTP is not enabled here");
      // Answer first, then stop: the caller learns the request was taken.
      setTimeout(shutdown, 50);
      return c.json({ shutting_down: true as const }, 202);
    },
    health: async (c) => {
      // While Kafka is unreachable the answer is 503: this orchestrator cannot see its drivers.
      // A store that refuses writes still answers 200: the process is alive and serves what it
      // has, and restarting it frees no disk; `ok` and `storage` say what is wrong.
      const storage = deps.storage?.() ?? { writable: true, error: null, failing_since: null };
      const since = storage.failing_since;
      const link = controller.kafka;
      const body = {
        ok: link.connected && storage.writable,
        kafka: {
          connected: link.connected,
          since: new Date(link.since).toISOString(),
          for_ms: Math.max(0, now() - link.since),
        },
        uptime_s: Math.round((now() - startedAt) / 1000),
        drivers_alive: controller.registry.alive().length,
        invalid_messages: { ...(deps.invalid ?? {}) },
        counters: { ...controller.counters },
        storage: {
          ...storage,
          failing_since: since === null ? null : new Date(since).toISOString(),
        },
        ...await roleOf(deps.leadership),
      };
      return link.connected ? c.json(body, 200) : c.json(body, 503);
    },
  };
}

/** The `/healthz` fields on the election: without a leadership, this process is the active one. */
async function roleOf(leadership: Leadership | undefined) {
  if (!leadership) return { role: "active" as const, active: null };
  return {
    role: leadership.isActive() ? "active" as const : "standby" as const,
    active: await leadership.active() ?? null,
  };
}
