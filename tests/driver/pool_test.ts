/**
 * The engine end to end on real Web Workers and real sockets: exact counts against the real
 * target, reconnects, chunked bodies, status codes, timeouts, refused connections, pacing, stop.
 */
import assert from "node:assert/strict";
import { type PoolReport, startTest } from "../../driver/pool.ts";
import type { LoadSpec } from "../../driver/worker_protocol.ts";
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

/** Every request ended exactly once, as a response or as an error. */
function assertBalanced(r: PoolReport): void {
  assert.equal(r.error, undefined);
  assert.equal(r.requests, r.responses + r.errors, JSON.stringify(r.errorKinds));
  assert.equal(r.histogram.totalCount, r.responses);
  assert.equal(r.serviceHistogram.totalCount, r.responses);
  const statusTotal = Object.values(r.statusCodes).reduce((a, b) => a + b, 0);
  assert.equal(statusTotal, r.responses);
  const errorTotal = Object.values(r.errorKinds).reduce((a, b) => a + b, 0);
  assert.equal(errorTotal, r.errors);
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

Deno.test("a server that closes keep-alive connections every few requests loses no request", async () => {
  // Every 3rd response says Connection: close; every 5th is followed by a silent close, so the
  // next request on that socket meets a closed connection and must be resent exactly once.
  const server = serveRaw((n) => ({
    bytes: `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${n % 3 === 0 ? "Connection: close\r\n" : ""}` +
      "\r\nok",
    close: n % 3 === 0 || n % 5 === 0,
  }));
  try {
    const r = await run(spec(`${server.url}/x`, { count: 3000, connections: 8 }));
    assertBalanced(r);
    assert.equal(r.responses, 3000, JSON.stringify(r.errorKinds));
    assert.equal(r.errors, 0);
    assert.equal(server.requests(), 3000);
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
    const started = performance.now();
    const r = await run(
      spec(`${target.url}/ping?delay_ms=1500`, { count: 6, connections: 3, timeoutMs: 150 }),
    );
    assertBalanced(r);
    assert.equal(r.responses, 0);
    assert.deepEqual(r.errorKinds, { timeout: 6 });
    // Two rounds of three connections, each cut at ~150 ms, not after the 1.5 s delay.
    assert.ok(performance.now() - started < 1400, `took ${performance.now() - started} ms`);
  } finally {
    await target.close();
  }
});

Deno.test("a port nobody listens on gives connect_refused errors and the test still ends", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const r = await run(spec(`http://127.0.0.1:${port}/`, { count: 20, connections: 2 }));
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

Deno.test("a paced test sends on its timetable and keeps the rate", async () => {
  const target = serveTarget();
  try {
    // 400 requests/s for 0.5 s: exactly the 200 slots inside the duration.
    const r = await run(
      spec(`${target.url}/ping`, { count: 0, durationMs: 500, intervalMs: 2.5, connections: 8 }),
    );
    assertBalanced(r);
    assert.equal(r.requests, 200);
    assert.equal(r.responses, 200);
    assert.ok(r.elapsedMs >= 495 && r.elapsedMs < 700, `elapsed ${r.elapsedMs}`);
    assert.ok(r.late <= 5, `late ${r.late}`);
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
    const test = startTest(spec(`${target.url}/ping`, { count: 0, durationMs: 60_000 }), {
      workers: 2,
      reportMs: 100,
    });
    setTimeout(() => test.stop(), 300);
    const r = await test.done;
    assertBalanced(r);
    assert.ok(r.responses > 0);
    assert.ok(r.elapsedMs < 2000, `elapsed ${r.elapsedMs}`);
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
