/**
 * The one protocol between the driver's main thread and its load workers: one typed union each
 * way, handled with an exhaustive switch on both sides. Only plain data crosses; histograms travel
 * encoded (shared/histogram.ts); the one exception is a paced test's ticker (shared memory and a
 * port, see driver/ticker.ts). Snapshots are deltas — postMessage inside one process neither
 * loses nor duplicates — and the main thread adds them up into exact cumulative totals.
 *
 * A test starts in two phases: `prepare` hands a worker its task, and the worker opens its
 * connections and warms its hot path before it answers `prepared`; only then does the main thread
 * pick the start time and send `start`. So no slot of a paced timetable waits for a connect, a
 * module compile or a cold JIT.
 */

import type { TickerInit } from "./ticker.ts";

/** How a request can fail; HTTP status codes are counted separately, never as errors. */
export const ERROR_KINDS = [
  "connect_refused",
  "dns",
  "tls",
  "fd_limit",
  "timeout",
  "closed",
  "reset",
  "malformed",
  "other",
] as const;
/** One of {@link ERROR_KINDS}. */
export type ErrorKind = typeof ERROR_KINDS[number];

/** A load test as the engine sees it, whatever started it (Kafka test_config or local flags). */
export interface LoadSpec {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Requests to send in total; 0 means no count limit (then durationMs bounds the test). */
  count: number;
  /** Upper bound on the test's length; null means until the count is done. */
  durationMs: number | null;
  /** Gap between scheduled requests of the node; 0 means each connection sends back to back. */
  intervalMs: number;
  timeoutMs: number;
  /** HTTP statuses that count as success (`latency_ok`); absent means 200-399. */
  expectedStatuses?: number[];
  /** Extra PEM CA certificates to trust for https targets (a self-signed test target). */
  caCerts?: string[];
  /**
   * The address to connect to, checked by the target policy (driver/target_guard.ts); the URL's
   * host still names the server (Host header, TLS). Absent: the host name is resolved at dial.
   */
  address?: string;
}

/** One worker's share of a {@link LoadSpec}. */
export interface WorkerTask {
  spec: LoadSpec;
  /** This worker's connections (from split()). */
  connections: number;
  /** This worker's requests (from split()); 0 with spec.count 0 means unbounded. */
  count: number;
  /** This worker's place in the node's round-robin timetable. */
  offset: number;
  stride: number;
  reportMs: number;
  /** For paced tests: the precise wake-up thread the main thread spawned for this worker. */
  ticker?: TickerInit;
}

/** What happened in one worker since its previous snapshot. */
export interface Snapshot {
  /** 1, 2, 3 ... per worker; the main thread checks none is missing. */
  seq: number;
  final: boolean;
  /** Requests whose bytes were handed to a socket (or whose connect was attempted). */
  requests: number;
  responses: number;
  errors: number;
  /** Paced requests sent more than the late tolerance after their slot. */
  late: number;
  /** Paced slots inside the test's window that were never sent (only in the final snapshot). */
  dropped: number;
  /** Paced slots that came due while every connection was busy. */
  queued: number;
  errorKinds: Partial<Record<ErrorKind, number>>;
  statusCodes: Record<string, number>;
  /** Latency of every request that ended (responses and errors), encoded, in µs. */
  histogram: string;
  /**
   * Latency of the requests that failed (errors, and responses without an expected status),
   * encoded, in µs: `histogram` minus it is the latency of the expected responses.
   */
  failedHistogram: string;
  /** Raw service time (write to last byte) of the responses, encoded, in µs. */
  serviceHistogram: string;
  /** Send lag of paced requests (sent − scheduled), encoded, in µs; empty when unpaced. */
  lagHistogram: string;
}

/** Main thread to worker. */
export type MainToWorker =
  | { type: "prepare"; task: WorkerTask }
  | { type: "start"; startAt: number }
  | { type: "stop" };

/** Worker to main thread. */
export type WorkerToMain =
  | { type: "ready" }
  | { type: "prepared" }
  | { type: "snapshot"; snapshot: Snapshot }
  | { type: "done" }
  | { type: "error"; message: string };

/** For the `default` branch of an exhaustive switch: a compile error when a case is missing. */
export function assertNever(value: never, what = "message"): never {
  throw new TypeError(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
