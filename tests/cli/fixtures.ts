/** Resources as the orchestrator's API returns them, for the CLI's and dashboard's unit tests. */
import type { Driver, Stats, TestView } from "../../shared/api.ts";

/** Statistics with every field set; `overrides` replace top-level fields. */
export function stats(overrides: Partial<Stats> = {}): Stats {
  return {
    offered: 1000,
    requests: 1000,
    responses: 990,
    errors: 10,
    dropped: 0,
    queued: 0,
    unfinished: 0,
    error_kinds: { timeout: 10 },
    status_codes: { "200": 980, "503": 10 },
    late: 0,
    rps: { last: 480, mean: 495 },
    elapsed_s: 2,
    latency_ms: {
      min: 0.2,
      mean: 1.5,
      median: 1.2,
      mode: 1.1,
      p90: 2.5,
      p95: 3,
      p99: 9.8,
      p999: 20,
      max: 31,
    },
    latency_ok_ms: {
      min: 0.2,
      mean: 1.4,
      median: 1.2,
      mode: 1.1,
      p90: 2.4,
      p95: 2.9,
      p99: 9.5,
      p999: 19,
      max: 30,
    },
    lag_ms: { p50: 0, p99: 0, max: 0 },
    warnings: [],
    ...overrides,
  };
}

/** A finished two-driver test view. */
export function testView(overrides: Partial<TestView> = {}): TestView {
  const one = stats({ requests: 500, responses: 495, errors: 5 });
  const two = stats({ requests: 500, responses: 495, errors: 5 });
  return {
    test_id: "t-1",
    state: "finished",
    reason: null,
    settled: true,
    created_at: "2025-11-24T22:00:00.000Z",
    triggered_at: "2025-11-24T22:00:01.000Z",
    ended_at: "2025-11-24T22:00:03.000Z",
    config: {
      test_id: "t-1",
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: 500,
      target_url: "http://127.0.0.1:8080/ping",
      connections: 10,
      timeout_ms: 10000,
      method: "GET",
    },
    overall: stats(),
    drivers: {
      one: {
        ...one,
        status: "final",
        report_id: 3,
        final: true,
        reported_at: null,
        error: null,
        lost_reason: null,
      },
      two: {
        ...two,
        status: "final",
        report_id: 3,
        final: true,
        reported_at: null,
        error: null,
        lost_reason: null,
      },
    },
    ...overrides,
  };
}

/** A driver as `GET /api/drivers` lists it, alive and idle. */
export function driver(overrides: Partial<Driver> = {}): Driver {
  return {
    node_id: "one",
    node_ip: "127.0.0.1",
    status: "alive",
    last_heartbeat: "2025-11-24T22:00:03.000Z",
    first_seen: "2025-11-24T21:59:00.000Z",
    heartbeat_age_ms: 200,
    interval_ms: 1000,
    test_id: null,
    workers: 2,
    version: "0.1.0",
    instance_id: "3f2c9a1e-0000-4000-8000-000000000001",
    ...overrides,
  };
}
