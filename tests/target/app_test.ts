import assert from "node:assert/strict";
import { createTargetApp, parsePingKnobs } from "../../target/app.ts";
import { sleep } from "../../shared/async.ts";

Deno.test("GET /ping answers 200 pong and is counted", async () => {
  const { app, counters } = createTargetApp();
  const res = await app.request("/ping");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "pong");
  assert.equal(counters.requestsReceived, 1);
  assert.equal(counters.responsesSent, 1);
});

Deno.test("/metrics counts every request except its own, exactly under concurrency", async () => {
  const { app } = createTargetApp();
  const paths = ["/ping", "/ping?delay_ms=5", "/nope", "/ping?status=503", "/", "/ping?bad=1"];
  await Promise.all(Array.from({ length: 600 }, (_, i) => app.request(paths[i % paths.length]!)));
  await app.request("/metrics");
  const body = await (await app.request("/metrics")).json();
  assert.equal(body.requests_received, 600);
  assert.equal(body.responses_sent, 600);
  assert.equal(body.in_flight, 0);
  assert.deepEqual(body.status_codes, { "200": 300, "400": 100, "404": 100, "503": 100 });
});

Deno.test("a delayed response is received at once but sent only after the delay", async () => {
  const { app, counters } = createTargetApp();
  const started = performance.now();
  const pending = app.request("/ping?delay_ms=60");
  await sleep(10);
  assert.equal(counters.requestsReceived, 1);
  assert.equal(counters.responsesSent, 0);
  assert.equal(counters.inFlight, 1);
  const res = await pending;
  assert.ok(performance.now() - started >= 55);
  assert.equal(await res.text(), "pong");
  assert.equal(counters.responsesSent, 1);
});

Deno.test("knobs: status, size, chunked, no-body statuses", async () => {
  const { app } = createTargetApp();
  const s = await app.request("/ping?status=503");
  assert.equal(s.status, 503);
  assert.equal(await s.text(), "pong");
  const big = await app.request("/ping?size=10000");
  assert.equal((await big.arrayBuffer()).byteLength, 10_000);
  const chunked = await app.request("/ping?size=1000&chunked=1");
  assert.equal(chunked.headers.get("content-length"), null);
  assert.equal((await chunked.arrayBuffer()).byteLength, 1000);
  const empty = await app.request("/ping?size=0");
  assert.equal(await empty.text(), "");
  const noContent = await app.request("/ping?status=204");
  assert.equal(noContent.status, 204);
  assert.equal(await noContent.text(), "");
});

Deno.test("bad knob values get a 400 that names them", async () => {
  const { app } = createTargetApp();
  const res = await app.request("/ping?delay_ms=-1&status=99&size=abc&chunked=maybe&foo=1");
  assert.equal(res.status, 400);
  const body = await res.json();
  const text = body.problems.join("\n");
  for (const name of ["delay_ms", "status", "size", "chunked", "foo"]) {
    assert.match(text, new RegExp(name));
  }
});

Deno.test("parsePingKnobs table", () => {
  const table: [Record<string, string>, unknown][] = [
    [{}, { delayMs: 0, status: 200, size: undefined, chunked: false }],
    [{ delay_ms: "10", status: "418", size: "3", chunked: "true" }, {
      delayMs: 10,
      status: 418,
      size: 3,
      chunked: true,
    }],
    [{ chunked: "" }, { delayMs: 0, status: 200, size: undefined, chunked: true }],
    [{ delay_ms: "60001" }, "problems"],
    [{ status: "600" }, "problems"],
    [{ size: "1.5" }, "problems"],
  ];
  for (const [query, want] of table) {
    const got = parsePingKnobs(query);
    if (want === "problems") assert.ok("problems" in got, JSON.stringify(query));
    else assert.deepEqual(got, want);
  }
});

Deno.test("Prometheus text by ?format=prometheus and by Accept: text/plain", async () => {
  const { app } = createTargetApp();
  await app.request("/ping");
  await app.request("/ping?status=500");
  for (
    const res of [
      await app.request("/metrics?format=prometheus"),
      await app.request("/metrics", { headers: { accept: "text/plain" } }),
    ]
  ) {
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^# TYPE surge_target_requests_received_total counter$/m);
    assert.match(text, /^surge_target_requests_received_total 2$/m);
    assert.match(text, /^surge_target_responses_sent_total 2$/m);
    assert.match(text, /^surge_target_responses_by_status_total\{code="500"\} 1$/m);
    // Every sample line is "name{labels} value": nothing else may appear.
    for (const line of text.trim().split("\n")) {
      assert.match(line, /^(# (HELP|TYPE) .+|[a-z_]+(\{[^}]*\})? \d+)$/);
    }
  }
});

Deno.test("POST /metrics/reset zeroes the counters and returns the old values", async () => {
  const { app } = createTargetApp();
  await app.request("/ping");
  const res = await (await app.request("/metrics/reset", { method: "POST" })).json();
  assert.equal(res.before.requests_received, 1);
  const after = await (await app.request("/metrics")).json();
  assert.equal(after.requests_received, 0);
  assert.equal(after.responses_sent, 0);
});

Deno.test("served for real: 2,000 concurrent requests over TCP are counted exactly", async () => {
  const { app } = createTargetApp();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 100 }, () => fetch(`${base}/ping`).then((r) => r.text())),
      );
    }
    const body = await (await fetch(`${base}/metrics`)).json();
    assert.equal(body.requests_received, 2000);
    assert.equal(body.responses_sent, 2000);
  } finally {
    await server.shutdown();
  }
});
