/** Valid example messages for every topic, shared by the schema tests and the README examples. */
import type { MessageOf } from "../../shared/messages.ts";
import { createLatencyHistogram, encodeHistogram, recordMicros } from "../../shared/histogram.ts";

const histogram = createLatencyHistogram();
for (const us of [300, 1200, 1250, 9800]) recordMicros(histogram, us);

export const VALID: { [K in keyof MessageOf]: MessageOf[K] } = {
  register: {
    node_id: "one",
    node_IP: "127.0.0.1",
    message_type: "DRIVER_NODE_REGISTER",
    timestamp: 1_764_000_000_000,
    workers: 2,
  },
  heartbeat: { node_id: "one", heartbeat: "YES", timestamp: 1_764_000_001_000, test_id: null },
  test_config: {
    test_id: "t-1",
    test_type: "TSUNAMI",
    test_message_delay: 10,
    message_count_per_driver: 100,
    target_url: "http://127.0.0.1:8080/ping",
    connections: 4,
    timeout_ms: 5000,
    method: "GET",
    drivers: ["one", "two"],
  },
  trigger: { test_id: "t-1", trigger: "YES", timestamp: 1_764_000_002_000 },
  metrics: {
    node_id: "one",
    test_id: "t-1",
    report_id: 3,
    metrics: { mean_latency: 1.5, median_latency: 1.2, min_latency: 0.3, max_latency: 9.8 },
    timestamp: 1_764_000_003_000,
    final: false,
    elapsed_ms: 3000,
    requests: 300,
    responses: 298,
    errors: 1,
    error_kinds: { timeout: 1 },
    status_codes: { "200": 297, "503": 1 },
    late: 0,
    dropped: 0,
    queued: 0,
    unfinished: 1,
    interval_rps: 99.5,
    histogram: encodeHistogram(histogram),
  },
};
