import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createDashboardRoutes } from "../../dashboard/routes.ts";
import { renderReportHtml, scriptJson } from "../../dashboard/report_html.ts";
import "../../dashboard/client/delta.js";
import { buildSnapshot, type DashboardSource } from "../../dashboard/snapshot.ts";
import type { SnapshotDelta } from "../../dashboard/snapshot_delta.ts";
import type { Snapshot, TestView, TimeSeries } from "../../shared/api.ts";
import { ApiError } from "../../shared/api_error.ts";
import { pollUntil } from "../../shared/async.ts";
import { driver, testView } from "../cli/fixtures.ts";

const series: TimeSeries = {
  test_id: "old",
  interval_s: 1,
  overall: [{
    t: 1,
    requests: 10,
    responses: 10,
    errors: 0,
    throughput: 10,
    p50: 1,
    p90: 2,
    p99: 3,
  }],
  drivers: {
    one: [{ t: 1, requests: 5, responses: 5, errors: 0, throughput: 5, p50: 1, p90: 2, p99: 3 }],
  },
};

function fakeSource(tests: TestView[]): DashboardSource {
  return {
    drivers: () => [driver()],
    listTests: (limit = 1000) =>
      tests.slice(0, limit).map(({ drivers: _drivers, ...rest }) => rest),
    getTest: (id) => {
      const t = tests.find((x) => x.test_id === id);
      if (!t) throw new ApiError(404, `Test "${id}" does not exist`);
      return t;
    },
    timeseries: () => series,
  };
}

const { applyDelta } = (globalThis as unknown as {
  SurgeDelta: { applyDelta: (snapshot: Snapshot, delta: SnapshotDelta) => Snapshot };
}).SurgeDelta;

/** Asks for an event stream every 20 ms until one is granted (for up to 5 s). */
const freedStream = (app: Hono) =>
  pollUntil(async () => {
    const res = await app.request("/dashboard/events");
    if (res.status === 200) return res;
    await res.body?.cancel();
  }, { what: "a free event stream", timeoutMs: 5_000, intervalMs: 20 });

const older = testView({ test_id: "old", state: "finished" });
const running = testView({ test_id: "run", state: "running", settled: false });
const newest = testView({ test_id: "new", state: "created", settled: false });

Deno.test("buildSnapshot() focuses the test asked for, else a running one, else the newest", () => {
  const source = fakeSource([newest, running, older]);
  const table: [string | null, string | null, string | undefined][] = [
    ["old", "old", undefined],
    [null, "run", undefined],
    ["nope", "run", "nope"],
  ];
  for (const [focus, expected, missing] of table) {
    const snap = buildSnapshot(source, 42, focus);
    assert.equal(snap.current?.test.test_id ?? null, expected, String(focus));
    assert.equal(snap.missing, missing);
    assert.equal(snap.time, 42);
    assert.equal(snap.tests.length, 3);
  }
  assert.equal(buildSnapshot(fakeSource([newest, older]), 1).current?.test.test_id, "new");
  assert.equal(buildSnapshot(fakeSource([]), 1).current, null);
});

Deno.test("the dashboard serves its page, its scripts and uPlot from the npm package", async () => {
  const app = createDashboardRoutes({ source: fakeSource([older]) });
  const page = await app.request("/");
  assert.equal(page.status, 200);
  const html = await page.text();
  for (
    const src of ["/dashboard/uPlot.iife.min.js", "/dashboard/render.js", "/dashboard/dashboard.js"]
  ) {
    assert.ok(html.includes(`src="${src}"`), src);
    const res = await app.request(src);
    assert.equal(res.status, 200, src);
    assert.match(res.headers.get("content-type")!, /javascript/);
    assert.ok((await res.text()).length > 100, src);
  }
  const uplot = await (await app.request("/dashboard/uPlot.iife.min.js")).text();
  assert.match(uplot, /uPlot/);
  const css = await app.request("/dashboard/uPlot.min.css");
  assert.match(css.headers.get("content-type")!, /text\/css/);
  const missing = await app.request("/dashboard/nope.js");
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).error, /nope\.js/);
});

Deno.test("the event stream pushes a snapshot, then a delta every interval, and ends after its lifetime", async () => {
  const app = createDashboardRoutes({
    source: fakeSource([running, older]),
    pushMs: 20,
    streamLifetimeMs: 90,
  });
  const res = await app.request("/dashboard/events?test=old");
  assert.match(res.headers.get("content-type")!, /text\/event-stream/);
  const text = await res.text();
  const events = text.split("\n\n").filter((e) => e.includes("event: "));
  assert.ok(events.length >= 3, `only ${events.length} events:\n${text}`);
  const kinds = events.map((e) => /event: (\w+)/.exec(e)![1]);
  assert.deepEqual(kinds, ["snapshot", ...kinds.slice(1).map(() => "delta")]);
  const payloads = events.map((e) => e.split("\n").find((l) => l.startsWith("data: "))!.slice(6));
  const data = JSON.parse(payloads[0]!);
  assert.equal(data.current.test.test_id, "old");
  assert.deepEqual(data.current.timeseries, series);
  assert.match(text, /retry: 500/);
  // Each delta is smaller than the snapshot, and applying them (with the browser's code) gives
  // the snapshot of the last push's time.
  let held = data;
  for (const payload of payloads.slice(1)) {
    assert.ok(payload.length < payloads[0]!.length, `${payload.length} ≥ ${payloads[0]!.length}`);
    held = applyDelta(held, JSON.parse(payload));
  }
  assert.deepEqual(held, buildSnapshot(fakeSource([running, older]), held.time, "old"));
});

/** Opens an event stream and reads its first event, leaving the stream open. */
async function openStream(app: Hono): Promise<{ res: Response; first: string }> {
  const res = await app.request("/dashboard/events");
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return { res, first: new TextDecoder().decode(value) };
}

Deno.test("event streams are capped: the one past the cap gets 503 until a stream closes", async () => {
  const app = createDashboardRoutes({ source: fakeSource([running]), pushMs: 10, maxStreams: 2 });
  const a = await openStream(app);
  const b = await openStream(app);
  try {
    assert.match(a.first, /event: snapshot/);
    const refused = await app.request("/dashboard/events");
    assert.equal(refused.status, 503);
    assert.match((await refused.json()).error, /at most 2/);
    // A client going away frees its stream at the next push.
    await a.res.body!.cancel();
    await (await freedStream(app)).body!.cancel();
  } finally {
    await a.res.body!.cancel().catch(() => {});
    await b.res.body!.cancel();
  }
});

Deno.test("a client that stops reading loses its stream after the write timeout", async () => {
  const app = createDashboardRoutes({
    source: fakeSource([running]),
    pushMs: 5,
    maxStreams: 1,
    writeTimeoutMs: 100,
  });
  // Never read: the stream's pushes back up behind the first one.
  const stuck = await app.request("/dashboard/events");
  try {
    assert.equal((await app.request("/dashboard/events")).status, 503);
    await (await freedStream(app)).body!.cancel();
  } finally {
    await stuck.body!.cancel().catch(() => {});
  }
});

Deno.test("/dashboard/snapshot answers once with JSON", async () => {
  const app = createDashboardRoutes({ source: fakeSource([running]), now: () => 7 });
  const snap = await (await app.request("/dashboard/snapshot")).json();
  assert.equal(snap.time, 7);
  assert.equal(snap.current.test.test_id, "run");
  assert.deepEqual(snap.drivers, [driver()]);
});

Deno.test("/reports/<id>.html is a self-contained report; unknown ids are 404", async () => {
  const app = createDashboardRoutes({ source: fakeSource([older]) });
  const res = await app.request("/reports/old.html?download");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-disposition")!, /attachment; filename="surge-old.html"/);
  const html = await res.text();
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, "nothing is loaded from outside");
  assert.match(html, /uPlot/);
  assert.ok(html.includes('"test_id":"old"'));
  assert.equal((await app.request("/reports/zzz.html")).status, 404);
  assert.equal((await app.request("/reports/old.pdf")).status, 404);
});

Deno.test("renderReportHtml() keeps hostile data inside its script element", () => {
  const hostile = testView({
    test_id: "x",
    config: { ...older.config, target_url: "http://127.0.0.1/</script><script>alert(1)</script>" },
  });
  const html = renderReportHtml({ test: hostile, timeseries: series });
  assert.ok(!html.includes("</script><script>alert(1)"));
  assert.ok(html.includes("\\u003c/script\\u003e"));
  assert.equal(JSON.parse(scriptJson({ a: "</script>\u2028&" })).a, "</script>\u2028&");
});
