import assert from "node:assert/strict";
import { DOCS_ASSETS } from "../../orchestrator/docs_assets.ts";
import { sleep } from "../../shared/async.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { AVALANCHE, call, createHarness } from "./harness.ts";
import { parseCsv } from "../support/csv.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("GET /healthz and unknown routes answer JSON", async () => {
  const h = await createHarness();
  try {
    const health = await call(h.app, "GET", "/healthz");
    assert.equal(health.status, 200);
    assert.equal(health.body.ok, true);
    assert.deepEqual(Object.keys(health.body.invalid_messages as Json).sort(), [
      "heartbeat",
      "metrics",
      "register",
      "test_config",
      "trigger",
    ]);
    const missing = await call(h.app, "GET", "/api/nope");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, "No route for GET /api/nope");
  } finally {
    await h.close();
  }
});

Deno.test("GET /api/drivers shows heartbeats and marks silent drivers lost", async () => {
  const h = await createHarness();
  try {
    assert.deepEqual((await call(h.app, "GET", "/api/drivers")).body, { drivers: [] });
    await h.register("one");
    await h.heartbeat("two");
    h.clock.advance(2000);
    await h.heartbeat("two");
    h.clock.advance(1500);
    h.controller.tick();
    const { body } = await call(h.app, "GET", "/api/drivers");
    const drivers = body.drivers as Json[];
    assert.deepEqual(drivers.map((d) => [d.node_id, d.status, d.node_ip]), [
      ["one", "lost", "127.0.0.1"],
      ["two", "alive", null],
    ]);
    assert.equal(drivers[1].heartbeat_age_ms, 1500);
    assert.equal(drivers[1].last_heartbeat, new Date(h.clock.t - 1500).toISOString());
  } finally {
    await h.close();
  }
});

Deno.test("POST /api/tests creates a test and publishes its test_config", async () => {
  const h = await createHarness();
  try {
    const res = await call(h.app, "POST", "/api/tests", { ...AVALANCHE, connections: 4 });
    assert.equal(res.status, 201);
    assert.equal(res.body.state, "created");
    assert.equal(res.body.test_id, "t1");
    assert.equal((res.body.config as Json).connections, 4);
    assert.equal((res.body.config as Json).timeout_ms, 10_000, "defaults are filled in");
    assert.deepEqual(res.body.drivers, {});
    const [config] = h.published("test_config");
    assert.equal(config?.test_id, "t1");
    assert.equal(config?.message_count_per_driver, 100);
  } finally {
    await h.close();
  }
});

Deno.test("POST /api/tests with bad bodies answers 400 naming each bad field", async () => {
  const h = await createHarness();
  try {
    const cases: [string, unknown, string[]][] = [
      ["two bad fields", { ...AVALANCHE, test_type: "FLOOD", target_url: "ftp://x" }, [
        "test_type",
        "target_url",
      ]],
      ["tsunami without delay", { ...AVALANCHE, test_type: "TSUNAMI" }, ["test_message_delay"]],
      ["unknown field", { ...AVALANCHE, target_troughput: 5 }, ["(body)"]],
      ["missing fields", {}, [
        "test_type",
        "test_message_delay",
        "message_count_per_driver",
        "target_url",
      ]],
      ["negative count", { ...AVALANCHE, message_count_per_driver: -1 }, [
        "message_count_per_driver",
      ]],
      ["not an object", [1, 2], ["(body)"]],
    ];
    for (const [name, body, fields] of cases) {
      const res = await call(h.app, "POST", "/api/tests", body);
      assert.equal(res.status, 400, name);
      const named = (res.body.problems as Json[]).map((p) => p.field);
      assert.deepEqual([...new Set(named)].sort(), [...fields].sort(), name);
      for (const field of fields) assert.ok((res.body.error as string).includes(field), name);
    }
    const malformed = await call(h.app, "POST", "/api/tests", "{not json");
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.error as string, /^Invalid request: .*JSON/i);
    assert.equal(h.published("test_config").length, 0, "nothing invalid reaches Kafka");
  } finally {
    await h.close();
  }
});

Deno.test("trigger, metrics, finish and the 404/409 answers, through the API", async () => {
  const h = await createHarness();
  try {
    assert.equal((await call(h.app, "POST", "/api/tests/nope/trigger")).status, 404);
    assert.equal((await call(h.app, "POST", "/api/tests/nope/stop")).status, 404);
    const unknown = await call(h.app, "GET", "/api/tests/nope");
    assert.deepEqual(unknown, {
      status: 404,
      body: { error: 'No test with id "nope"' },
      text: unknown.text,
      type: unknown.type,
    });
    await call(h.app, "POST", "/api/tests", AVALANCHE);
    const noDriver = await call(h.app, "POST", "/api/tests/t1/trigger");
    assert.equal(noDriver.status, 409);
    assert.match(noDriver.body.error as string, /no driver is alive/);

    await h.heartbeat("one");
    await h.heartbeat("two");
    const triggered = await call(h.app, "POST", "/api/tests/t1/trigger");
    assert.equal(triggered.status, 200);
    assert.equal(triggered.body.state, "running");
    assert.deepEqual(Object.keys(triggered.body.drivers as Json), ["one", "two"]);
    const [yes] = h.published("trigger");
    assert.equal(yes?.trigger, "YES");
    assert.deepEqual(yes?.drivers, ["one", "two"]);

    const twice = await call(h.app, "POST", "/api/tests/t1/trigger");
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error, 'Cannot trigger test "t1": it is running');

    await call(h.app, "POST", "/api/tests", AVALANCHE);
    const second = await call(h.app, "POST", "/api/tests/t2/trigger");
    assert.equal(second.status, 409);
    assert.match(second.body.error as string, /test "t1" is running; one test runs at a time/);

    const one = new FakeDriver("one", "t1").record(latencies(1, 60, 1000, 500));
    const two = new FakeDriver("two", "t1").record(latencies(2, 40, 1000, 500), 2);
    await h.metrics(one.report(1000));
    const live = (await call(h.app, "GET", "/api/tests/t1")).body as Json;
    assert.equal(live.drivers.one.responses, 60);
    assert.equal(live.drivers.one.status, "running");
    assert.equal(live.drivers.two.report_id, null);
    await h.metrics(one.report(2000, true));
    await h.metrics(two.report(2000, true));
    const done = (await call(h.app, "GET", "/api/tests/t1")).body as Json;
    assert.equal(done.state, "finished");
    assert.equal(done.settled, true);
    assert.equal(done.overall.responses, 100);
    assert.equal(done.overall.requests, 102);
    assert.deepEqual(done.overall.error_kinds, { timeout: 2 });
    assert.equal(done.drivers.two.status, "final");

    const stopFinished = await call(h.app, "POST", "/api/tests/t1/stop");
    assert.equal(stopFinished.status, 409);
    assert.equal(stopFinished.body.error, 'Cannot stop test "t1": it is finished');

    const stopped = await call(h.app, "POST", "/api/tests/t2/stop");
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, "stopped");
    const list = (await call(h.app, "GET", "/api/tests")).body as Json;
    assert.deepEqual(list.tests.map((t: Json) => [t.test_id, t.state]), [
      ["t2", "stopped"],
      ["t1", "finished"],
    ]);
    assert.equal(list.tests[1].overall.responses, 100);
  } finally {
    await h.close();
  }
});

Deno.test("timeseries and report (json, csv) of a test", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await call(h.app, "POST", "/api/tests", AVALANCHE);
    await call(h.app, "POST", "/api/tests/t1/trigger");
    const d = new FakeDriver("one", "t1");
    await h.metrics(d.record(latencies(1, 10, 1000, 100)).report(1000));
    await h.metrics(d.record(latencies(2, 30, 1000, 100)).report(2000, true));
    const series = (await call(h.app, "GET", "/api/tests/t1/timeseries")).body as Json;
    assert.equal(series.test_id, "t1");
    assert.deepEqual(series.overall.map((p: Json) => p.responses), [10, 30]);
    assert.deepEqual(series.drivers.one.map((p: Json) => p.throughput), [10, 30]);

    const json = (await call(h.app, "GET", "/api/tests/t1/report")).body as Json;
    assert.equal(json.test.overall.responses, 40);
    assert.equal(json.timeseries.overall.length, 2);

    const csv = await call(h.app, "GET", "/api/tests/t1/report?format=csv");
    assert.equal(csv.status, 200);
    assert.match(csv.type, /^text\/csv/);
    const rows = parseCsv(csv.text);
    assert.equal(rows.length, 3);
    const header = rows[0]!;
    const overall = Object.fromEntries(header.map((k, i) => [k, rows[1]![i]]));
    assert.equal(overall.scope, "overall");
    assert.equal(overall.responses, "40");
    assert.equal(overall.status_codes, "200=40");
    assert.equal(rows[2]![1], "one");

    const bad = await call(h.app, "GET", "/api/tests/t1/report?format=xml");
    assert.equal(bad.status, 400);
    assert.equal((bad.body.problems as Json[])[0].field, "format");
    assert.equal((await call(h.app, "GET", "/api/tests/zz/report")).status, 404);
    assert.equal((await call(h.app, "GET", "/api/tests/zz/timeseries")).status, 404);
  } finally {
    await h.close();
  }
});

Deno.test("POST /api/end publishes END; /api/shutdown needs a shutdown hook", async () => {
  let shutdowns = 0;
  const h = await createHarness({ app: { shutdown: () => shutdowns++ } });
  try {
    await h.heartbeat("one");
    const end = await call(h.app, "POST", "/api/end");
    assert.deepEqual(end.body, { drivers: ["one"] });
    assert.equal(h.published("trigger").at(-1)?.trigger, "END");
    const res = await call(h.app, "POST", "/api/shutdown");
    assert.equal(res.status, 202);
    await sleep(100);
    assert.equal(shutdowns, 1);
  } finally {
    await h.close();
  }
  const plain = await createHarness();
  try {
    assert.equal((await call(plain.app, "POST", "/api/shutdown")).status, 409);
  } finally {
    await plain.close();
  }
});

Deno.test("GET /api/openapi.json documents every route; /api/docs serves Swagger UI", async () => {
  const h = await createHarness({ app: { docsAssets: DOCS_ASSETS } });
  try {
    const spec = (await call(h.app, "GET", "/api/openapi.json")).body as Json;
    assert.equal(spec.openapi, "3.0.0");
    assert.deepEqual(Object.keys(spec.paths).sort(), [
      "/api/drivers",
      "/api/end",
      "/api/shutdown",
      "/api/tests",
      "/api/tests/{test_id}",
      "/api/tests/{test_id}/report",
      "/api/tests/{test_id}/stop",
      "/api/tests/{test_id}/timeseries",
      "/api/tests/{test_id}/trigger",
      "/healthz",
    ]);
    const body = spec.components.schemas.CreateTest;
    assert.ok(body.properties.target_url && body.properties.test_type.enum.includes("TSUNAMI"));
    const page = await call(h.app, "GET", "/api/docs");
    assert.match(page.text, /swagger-ui-bundle\.js/);
    const js = await h.app.request("/api/docs/swagger-ui-bundle.js");
    assert.equal(js.status, 200);
    assert.ok((await js.text()).includes("SwaggerUIBundle"));
    assert.equal((await call(h.app, "GET", "/api/docs/../../etc/passwd")).status, 404);
  } finally {
    await h.close();
  }
  const bare = await createHarness();
  try {
    const page = await call(bare.app, "GET", "/api/docs");
    assert.match(page.text, /\/api\/tests\/\{test_id\}\/trigger/);
  } finally {
    await bare.close();
  }
});

Deno.test("while Kafka connects, stored tests are served; drivers, commands, /healthz answer 503", async () => {
  let connected = false;
  const h = await createHarness({ app: { kafkaConnected: () => connected } });
  try {
    const table: [string, string, number][] = [
      ["GET", "/api/tests", 200],
      ["GET", "/api/drivers", 503],
      ["GET", "/api/openapi.json", 200],
      ["GET", "/healthz", 503],
      ["POST", "/api/tests", 503],
      ["POST", "/api/tests/t1/trigger", 503],
      ["POST", "/api/tests/t1/stop", 503],
      ["POST", "/api/end", 503],
    ];
    for (const [method, path, status] of table) {
      const res = await call(h.app, method, path, method === "POST" ? AVALANCHE : undefined);
      assert.equal(res.status, status, `${method} ${path}`);
      if (status === 503) assert.match(String(res.body.error), /Kafka/);
    }
    assert.equal(h.published("test_config").length, 0, "nothing was published");
    connected = true;
    assert.equal((await call(h.app, "GET", "/healthz")).status, 200);
    assert.equal((await call(h.app, "POST", "/api/tests", AVALANCHE)).status, 201);
  } finally {
    await h.close();
  }
});
