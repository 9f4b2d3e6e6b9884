/**
 * The engine end to end on real Web Workers and real sockets: exact counts against the real
 * target, reconnects, chunked bodies, status codes, timeouts, refused connections, pacing, stop.
 */
import assert from "node:assert/strict";
import { type PoolReport, startTest } from "../../driver/pool.ts";
import type { LoadSpec } from "../../driver/worker_protocol.ts";
import { merge, type SparseHistogram, sparseOf, summarize } from "../../shared/histogram.ts";
import { assertBalanced } from "./balance.ts";
import { serveRaw, serveTarget } from "./servers.ts";

function spec(url: string, over: Partial<LoadSpec> = {}): LoadSpec {
  return {
    url,
    method: "GET",
    connections: 4,
    count: 100,
    durationMs: null,
    intervalMs: 0,
    timeoutMs: 5000,
    ...over,
  };
}

function run(s: LoadSpec, workers = 2): Promise<PoolReport> {
  return startTest(s, { workers, reportMs: 200 }).done;
}

Deno.test("a count of 5000 gives exactly 5000 responses and the target agrees", async () => {
  const target = serveTarget();
  try {
    const r = await run(spec(`${target.url}/ping`, { count: 5000, connections: 10 }), 3);
    assertBalanced(r);
    assert.equal(r.requests, 5000);
    assert.equal(r.responses, 5000);
    assert.deepEqual(r.statusCodes, { "200": 5000 });
    assert.equal(target.counters.requestsReceived, 5000);
    assert.equal(target.counters.responsesSent, 5000);
    assert.ok(r.final);
  } finally {
    await target.close();
  }
});

Deno.test("a close after a response is never papered over by a re-send", async () => {
  // Every 3rd response says Connection: close (a clean end, no error); every 5th is followed by a
  // silent close, so the next request written on that socket meets a closed connection. That
  // request is an error ("closed" or "reset"), never re-sent: the server never read it.
  const server = serveRaw((n) => ({
    bytes: `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${n % 3 === 0 ? "Connection: close\r\n" : ""}` +
      "\r\nok",
    close: n % 3 === 0 || n % 5 === 0,
  }));
  try {
    const r = await run(spec(`${server.url}/x`, { count: 3000, connections: 8 }));
    assertBalanced(r);
    assert.equal(r.requests, 3000);
    const { closed = 0, reset = 0, ...others } = r.errorKinds;
    assert.deepEqual(others, {});
    assert.equal(closed + reset, r.errors);
    assert.equal(server.requests(), r.responses, "every request the server read was answered");
  } finally {
    await server.close();
  }
});

Deno.test("chunked responses are read to their end, with extensions and trailers", async () => {
  const target = serveTarget();
  const raw = serveRaw(() => ({
    bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n" +
      "0\r\nX-Trailer: t\r\n\r\n",
  }));
  try {
    const a = await run(spec(`${target.url}/ping?chunked=1&size=5000`, { count: 300 }));
    assertBalanced(a);
    assert.deepEqual(a.statusCodes, { "200": 300 });
    const b = await run(spec(`${raw.url}/`, { count: 300 }));
    assertBalanced(b);
    assert.deepEqual(b.statusCodes, { "200": 300 });
    assert.equal(raw.requests(), 300);
  } finally {
    await target.close();
    await raw.close();
  }
});

Deno.test("a server answering 503 is counted by status, not as an error", async () => {
  const target = serveTarget();
  try {
    const r = await run(spec(`${target.url}/ping?status=503`, { count: 500 }));
    assertBalanced(r);
    assert.deepEqual(r.statusCodes, { "503": 500 });
    assert.equal(r.errors, 0);
  } finally {
    await target.close();
  }
});

Deno.test("requests that outlive the timeout are counted as timeouts", async () => {
  const target = serveTarget();
  try {
    const r = await run(
      spec(`${target.url}/ping?delay_ms=1500`, { count: 6, connections: 3, timeoutMs: 150 }),
    );
    assertBalanced(r);
    assert.equal(r.responses, 0);
    assert.deepEqual(r.errorKinds, { timeout: 6 });
    // Each is cut at its timeout (150 ms, plus at most one 7.5 ms sweep), not after the 1.5 s
    // the server would take, and enters the latency at its elapsed time.
    const s = summarize(r.histogram);
    assert.equal(s.count, 6);
    assert.ok(s.min >= 150 && s.max < 1500, JSON.stringify(s));
  } finally {
    await target.close();
  }
});

Deno.test("a port nobody listens on gives connect_refused errors and the test still ends", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const r = await run(spec(`http://127.0.0.1:${port}/`, { count: 20, connections: 10 }));
  assertBalanced(r);
  assert.deepEqual(r.errorKinds, { connect_refused: 20 });
});

Deno.test("a malformed response is counted as malformed", async () => {
  const server = serveRaw(() => ({ bytes: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n" }));
  try {
    const r = await run(spec(`${server.url}/`, { count: 10, connections: 1 }));
    assertBalanced(r);
    assert.deepEqual(r.errorKinds, { malformed: 10 });
  } finally {
    await server.close();
  }
});

Deno.test("a paced test offers exactly the slots of its window and the target sees every send", async () => {
  const target = serveTarget();
  try {
    // 400 requests/s for 0.5 s: exactly 200 slots start inside the window. Each one is either
    // sent (and reaches the target) or dropped; none starts after the window.
    const started = performance.now();
    const r = await run(
      spec(`${target.url}/ping`, { count: 0, durationMs: 500, intervalMs: 2.5, connections: 8 }),
    );
    const wall = performance.now() - started;
    assertBalanced(r);
    assert.equal(r.requests + r.dropped, 200);
    assert.equal(target.counters.requestsReceived, r.requests);
    assert.equal(r.lagHistogram.totalCount, r.requests);
    // The window is 500 ms; in-flight requests end within timeout_ms (5 s) after it.
    assert.ok(r.elapsedMs >= 500 && r.elapsedMs < 5500, `elapsed ${r.elapsedMs}`);
    assert.ok(wall >= 500, `wall ${wall}`);
  } finally {
    await target.close();
  }
});

Deno.test("a stalled server shows up in the paced latency, and the late requests are counted", async () => {
  const target = serveTarget();
  try {
    // One connection, a slot every 10 ms, responses taking 50 ms: the timetable falls behind.
    const r = await run(
      spec(`${target.url}/ping?delay_ms=50`, { count: 10, intervalMs: 10, connections: 1 }),
      1,
    );
    assertBalanced(r);
    assert.equal(r.responses, 10);
    assert.ok(r.late >= 8, `late ${r.late}`);
    // Service time stays ~50 ms while latency from the schedule grows to ~10 * 40 ms.
    assert.ok(r.serviceHistogram.maxValue < 200_000, `service max ${r.serviceHistogram.maxValue}`);
    assert.ok(r.histogram.maxValue > 350_000, `latency max ${r.histogram.maxValue}`);
  } finally {
    await target.close();
  }
});

Deno.test("stop() ends a long test early and every request still ends once", async () => {
  const target = serveTarget();
  try {
    // Stop once the first report shows traffic, so the stop cannot land before the start.
    const test = startTest(spec(`${target.url}/ping`, { count: 0, durationMs: 60_000 }), {
      workers: 2,
      reportMs: 100,
      onReport: (report) => report.responses > 0 && test.stop(),
    });
    const r = await test.done;
    assertBalanced(r);
    assert.ok(r.responses > 0);
    // The 60 s window was cut short: the test ends with its in-flight requests.
    assert.ok(r.elapsedMs < 30_000, `elapsed ${r.elapsedMs}`);
    assert.equal(target.counters.requestsReceived, r.requests);
    assert.equal(target.counters.responsesSent, r.responses);
  } finally {
    await target.close();
  }
});

Deno.test("reports are cumulative, increasing, and the last one is final", async () => {
  const target = serveTarget();
  try {
    const reports: PoolReport[] = [];
    const test = startTest(spec(`${target.url}/ping`, { count: 0, durationMs: 700 }), {
      workers: 2,
      reportMs: 200,
      onReport: (r) => reports.push(r),
    });
    const last = await test.done;
    assert.ok(reports.length >= 3, `${reports.length} reports`);
    assert.equal(reports.at(-1), last);
    assert.deepEqual(reports.map((r) => r.final), [...reports.slice(1).map(() => false), true]);
    for (let i = 1; i < reports.length; i++) {
      assert.ok(reports[i]!.responses >= reports[i - 1]!.responses);
      assert.ok(reports[i]!.elapsedMs >= reports[i - 1]!.elapsedMs);
    }
    assert.ok(reports[1]!.intervalRps > 0);
  } finally {
    await target.close();
  }
});

Deno.test("each report's interval histograms add up to the cumulative ones", async () => {
  const target = serveTarget();
  try {
    const keys = ["histogram", "failedHistogram", "serviceHistogram", "lagHistogram"] as const;
    const intervals: SparseHistogram[][] = [];
    const test = startTest(spec(`${target.url}/ping`, { count: 0, durationMs: 700 }), {
      workers: 2,
      reportMs: 200,
      // The interval is lent for the call only: keep copies.
      onReport: (r) => intervals.push(keys.map((k) => sparseOf(r.interval[k]))),
    });
    const last = await test.done;
    assert.ok(intervals.length >= 3, `${intervals.length} reports`);
    assert.ok(last.responses > 0);
    keys.forEach((k, i) => {
      assert.deepEqual(merge(intervals.map((parts) => parts[i]!)), sparseOf(last[k]), k);
    });
    assert.equal(last.interval.histogram.totalCount, 0, "emptied after the call");
  } finally {
    await target.close();
  }
});

Deno.test("POST sends its body on the socket and HEAD reads no body", async () => {
  const bodies: string[] = [];
  const methods: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    methods.push(req.method);
    if (req.method === "POST") bodies.push(await req.text());
    return new Response("x".repeat(1000), { headers: { "x-test": "1" } });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const post = await run(spec(url, { method: "POST", body: '{"n":1}', count: 20 }));
    assertBalanced(post);
    assert.equal(post.responses, 20);
    assert.deepEqual(bodies, new Array(20).fill('{"n":1}'));
    // A HEAD answer has a Content-Length of 1000 and no body: waiting for one would time out.
    const head = await run(spec(url, { method: "HEAD", count: 20, timeoutMs: 2000 }));
    assertBalanced(head);
    assert.deepEqual(head.statusCodes, { "200": 20 });
    assert.equal(methods.filter((m) => m === "HEAD").length, 20);
  } finally {
    await server.shutdown();
  }
});
