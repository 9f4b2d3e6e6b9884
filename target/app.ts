/**
 * The target server: the system under test that surge's own tests (and users trying surge out)
 * aim at. `/ping` answers `pong`, with knobs to inject delay, status codes, body size and chunked
 * bodies; `/metrics` reports exact request and response counts.
 */
import { type Context, Hono } from "hono";
import { sleep } from "../shared/async.ts";

/** Exact counters of everything the target has seen, except requests to `/metrics` itself. */
export class TargetCounters {
  requestsReceived = 0;
  responsesSent = 0;
  /** Responses by status code, indexed by code: an array keeps the hot path to one increment. */
  #byStatus = new Array<number>(600).fill(0);
  startedAt = Date.now();

  /** Requests received whose response has not been sent yet. */
  get inFlight(): number {
    return this.requestsReceived - this.responsesSent;
  }

  /** Responses by status code, only the codes seen. */
  get statusCodes(): Map<number, number> {
    const seen = new Map<number, number>();
    this.#byStatus.forEach((n, code) => n > 0 && seen.set(code, n));
    return seen;
  }

  countResponse(status: number): void {
    this.responsesSent++;
    this.#byStatus[status >= 100 && status < 600 ? status : 0]! += 1;
  }

  reset(): void {
    this.requestsReceived = 0;
    this.responsesSent = 0;
    this.#byStatus.fill(0);
    this.startedAt = Date.now();
  }

  toJSON(): TargetMetrics {
    return {
      requests_received: this.requestsReceived,
      responses_sent: this.responsesSent,
      in_flight: this.inFlight,
      status_codes: Object.fromEntries([...this.statusCodes].map(([k, v]) => [String(k), v])),
      since: new Date(this.startedAt).toISOString(),
    };
  }
}

/** The JSON body of `GET /metrics`. */
export interface TargetMetrics {
  requests_received: number;
  responses_sent: number;
  in_flight: number;
  status_codes: Record<string, number>;
  since: string;
}

/** Prometheus text exposition (format 0.0.4) of the counters. */
export function toPrometheus(counters: TargetCounters): string {
  const lines = [
    "# HELP surge_target_requests_received_total Requests received (excluding /metrics).",
    "# TYPE surge_target_requests_received_total counter",
    `surge_target_requests_received_total ${counters.requestsReceived}`,
    "# HELP surge_target_responses_sent_total Responses sent (excluding /metrics).",
    "# TYPE surge_target_responses_sent_total counter",
    `surge_target_responses_sent_total ${counters.responsesSent}`,
    "# HELP surge_target_in_flight Requests received and not yet answered.",
    "# TYPE surge_target_in_flight gauge",
    `surge_target_in_flight ${counters.inFlight}`,
    "# HELP surge_target_responses_by_status_total Responses sent by HTTP status code.",
    "# TYPE surge_target_responses_by_status_total counter",
    ...[...counters.statusCodes].sort(([a], [b]) => a - b).map(([code, n]) =>
      `surge_target_responses_by_status_total{code="${code}"} ${n}`
    ),
  ];
  return lines.join("\n") + "\n";
}

/** The knobs `/ping` accepts as query parameters, validated. */
export interface PingKnobs {
  delayMs: number;
  status: number;
  /** Body bytes; undefined means the plain `pong`. */
  size: number | undefined;
  chunked: boolean;
}

const MAX_DELAY_MS = 60_000;
const MAX_SIZE = 16 * 1024 * 1024;

function intParam(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  problems: string[],
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    return undefined;
  }
  return n;
}

/** Parses `/ping`'s query parameters; returns the problems when any value is bad. */
export function parsePingKnobs(query: Record<string, string>): PingKnobs | { problems: string[] } {
  const problems: string[] = [];
  const known = new Set(["delay_ms", "status", "size", "chunked"]);
  for (const key of Object.keys(query)) {
    if (!known.has(key)) {
      problems.push(`unknown parameter "${key}" (known: ${[...known].join(", ")})`);
    }
  }
  const delayMs = intParam(query.delay_ms, "delay_ms", 0, MAX_DELAY_MS, problems) ?? 0;
  const status = intParam(query.status, "status", 200, 599, problems) ?? 200;
  const size = intParam(query.size, "size", 0, MAX_SIZE, problems);
  const chunkedText = query.chunked;
  if (chunkedText !== undefined && !["0", "1", "true", "false", ""].includes(chunkedText)) {
    problems.push(`chunked must be 1, true, 0 or false, got "${chunkedText}"`);
  }
  if (problems.length > 0) return { problems };
  return {
    delayMs,
    status,
    size,
    chunked: chunkedText === "1" || chunkedText === "true" || chunkedText === "",
  };
}

const PONG = "pong";
/** Statuses whose responses must not carry a body. */
const NO_BODY = new Set([204, 205, 304]);
const CHUNKS = 4;

function body(size: number | undefined): Uint8Array<ArrayBuffer> {
  if (size === undefined) return new TextEncoder().encode(PONG);
  return new Uint8Array(size).fill(0x78); // "xxxx…": printable, so curl output stays readable
}

function chunkedStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const step = Math.max(1, Math.ceil(bytes.length / CHUNKS));
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + step));
      offset += step;
      // Yield so each piece goes out as its own chunk rather than coalesced into one write.
      await sleep(0);
    },
  });
}

/** Builds the target's Hono app around `counters`. `main.ts` serves it with `Deno.serve`. */
export function createTargetApp(
  counters = new TargetCounters(),
): { app: Hono; counters: TargetCounters } {
  const app = new Hono();

  // Every route but /metrics counts itself, instead of one catch-all middleware: a middleware
  // costs ~15 % of the target's throughput, and the target must not be the bottleneck.
  const counted = (handler: (c: Context) => Response | Promise<Response>) => async (c: Context) => {
    counters.requestsReceived++;
    const res = await handler(c);
    counters.countResponse(res.status);
    return res;
  };

  app.get("/ping", (c) => {
    if (!c.req.url.includes("?")) {
      counters.requestsReceived++;
      counters.countResponse(200);
      return new Response(PONG);
    }
    return pingWithKnobs(c);
  });

  const pingWithKnobs = counted(async (c) => {
    const knobs = parsePingKnobs(c.req.query());
    if ("problems" in knobs) {
      return c.json({ error: "invalid query", problems: knobs.problems }, 400);
    }
    if (knobs.delayMs > 0) await sleep(knobs.delayMs);
    const headers = { "content-type": "text/plain; charset=utf-8" };
    if (NO_BODY.has(knobs.status)) return new Response(null, { status: knobs.status });
    const bytes = body(knobs.size);
    if (knobs.chunked) return new Response(chunkedStream(bytes), { status: knobs.status, headers });
    return new Response(bytes, { status: knobs.status, headers });
  });

  app.get("/metrics", (c) => {
    const wantsText = c.req.query("format") === "prometheus" ||
      (c.req.query("format") === undefined &&
        (c.req.header("accept") ?? "").includes("text/plain"));
    if (wantsText) {
      return c.body(toPrometheus(counters), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      });
    }
    return c.json(counters.toJSON());
  });

  /** Resets the counters and returns what they were. */
  app.post("/metrics/reset", (c) => {
    const before = counters.toJSON();
    counters.reset();
    return c.json({ reset: true, before });
  });

  app.get(
    "/",
    counted((c) =>
      c.text(
        "surge target\n" +
          "GET /ping[?delay_ms=N&status=N&size=N&chunked=1]  answers pong (or the knobs' response)\n" +
          "GET /metrics[?format=prometheus]                  request/response counters\n" +
          "POST /metrics/reset                               zero the counters\n",
      )
    ),
  );

  app.notFound(
    counted((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404)),
  );
  return { app, counters };
}
