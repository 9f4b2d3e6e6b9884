/**
 * Drivers join and leave between tests: END to some drivers only (`POST /api/end` with
 * `drivers`), a driver that says it is leaving shows `left` and is not chosen for the next test,
 * the trigger's answer names the drivers chosen, and a driver that leaves while a test expects it
 * busy is lost within the idle grace unless its final report came first.
 */
import assert from "node:assert/strict";
import { IDLE_GRACE_MS } from "../../orchestrator/driver_watch.ts";
import { AUTH } from "../support/api_json.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { AVALANCHE, avalanche, call, createHarness, type Harness } from "./harness.ts";

/** The last heartbeat of a driver that exits cleanly (END, a signal). */
const leave = (h: Harness, nodeId: string, run: string) =>
  h.bus.publish("heartbeat", {
    node_id: nodeId,
    heartbeat: "YES",
    timestamp: h.clock.t,
    test_id: null,
    instance_id: run,
    leaving: true,
  });

Deno.test("POST /api/end with drivers sends END to those only and answers who was told", async () => {
  const h = await createHarness();
  try {
    for (const id of ["one", "two", "three"]) await h.heartbeat(id, null, `run-${id}`);
    const res = await call(h.app, "POST", "/api/end", { drivers: ["three", "three"] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { drivers: ["three"] });
    const end = h.published("trigger").at(-1)!;
    assert.equal(end.trigger, "END");
    assert.deepEqual(end.drivers, ["three"]);
    // Without a body: every driver, as before (no `drivers` on the message).
    const all = await call(h.app, "POST", "/api/end");
    assert.deepEqual(all.body, { drivers: ["one", "three", "two"] });
    assert.equal(h.published("trigger").at(-1)!.drivers, undefined);
  } finally {
    await h.close();
  }
});

Deno.test("POST /api/end refuses unknown, departed and malformed driver lists, publishing nothing", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one", null, "run-one");
    await h.heartbeat("gone", null, "run-gone");
    await leave(h, "gone", "run-gone");
    const cases: [string, unknown, number, RegExp][] = [
      ["a name never seen", { drivers: ["one", "nope"] }, 404, /"nope": no such driver/],
      ["a driver that left", { drivers: ["gone"] }, 409, /"gone": already left/],
      ["an empty list is not 'all'", { drivers: [] }, 400, /at least one driver/],
      ["a bad name", { drivers: ["no spaces"] }, 400, /drivers\.0/],
      ["an unknown field", { driver: ["one"] }, 400, /driver/],
      ["not JSON", "drivers=one", 400, /Invalid request/],
    ];
    for (const [what, body, status, error] of cases) {
      const res = await call(h.app, "POST", "/api/end", body);
      assert.equal(res.status, status, what);
      assert.match(String(res.body.error), error, what);
    }
    // A body without a JSON content type is refused too, not read as "every driver".
    const plain = await h.app.request("/api/end", {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ drivers: ["one"] }),
    });
    assert.equal(plain.status, 400);
    assert.equal(h.published("trigger").length, 0, "no END went out");
  } finally {
    await h.close();
  }
});

Deno.test("a driver that left is not chosen; the trigger's answer names the chosen drivers", async () => {
  const h = await createHarness();
  try {
    for (const id of ["one", "two", "three"]) await h.heartbeat(id, null, `run-${id}`);
    await leave(h, "three", "run-three");
    const drivers = (await call(h.app, "GET", "/api/drivers")).body.drivers as {
      node_id: string;
      status: string;
    }[];
    assert.deepEqual(drivers.map((d) => `${d.node_id} ${d.status}`), [
      "one alive",
      "three left",
      "two alive",
    ]);
    assert.equal((await call(h.app, "GET", "/healthz")).body.drivers_alive, 2);
    const created = await call(h.app, "POST", "/api/tests", AVALANCHE);
    const triggered = await call(h.app, "POST", `/api/tests/${created.body.test_id}/trigger`);
    assert.equal(triggered.status, 200);
    assert.deepEqual(Object.keys(triggered.body.drivers as object).sort(), ["one", "two"]);
    assert.deepEqual(h.published("trigger").at(-1)!.drivers, ["one", "two"]);
    // A fourth driver joins between tests: the next test runs on it too.
    const settle = async (id: string, run: string) => {
      const d = new FakeDriver(id, String(created.body.test_id)).record(latencies(1, 5, 900, 10));
      await h.metrics({ ...d.report(1000, true), timestamp: h.clock.t, instance_id: run });
    };
    await settle("one", "run-one");
    await settle("two", "run-two");
    assert.equal(h.controller.getTest(String(created.body.test_id)).settled, true);
    await h.heartbeat("four", null, "run-four");
    await h.controller.createTest(avalanche());
    const next = await h.controller.trigger("t2");
    assert.deepEqual(Object.keys(next.drivers).sort(), ["four", "one", "two"]);
  } finally {
    await h.close();
  }
});

Deno.test("a driver leaving mid-test is lost after the idle grace unless its final report came", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one", null, "run-one");
    await h.heartbeat("two", null, "run-two");
    await h.controller.createTest(avalanche({ duration_s: 60 }));
    await h.controller.trigger("t1");
    // one ran the test and sent its final report before leaving; two never even started it.
    await h.heartbeat("one", "t1", "run-one");
    const one = new FakeDriver("one", "t1").record(latencies(2, 10, 1000, 10));
    await h.metrics({ ...one.report(1000, true), timestamp: h.clock.t, instance_id: "run-one" });
    await leave(h, "one", "run-one");
    await leave(h, "two", "run-two");
    h.clock.advance(IDLE_GRACE_MS - 1);
    h.controller.tick();
    assert.equal(h.controller.getTest("t1").drivers.two?.status, "running");
    h.clock.advance(1);
    h.controller.tick();
    const view = h.controller.getTest("t1");
    assert.equal(view.drivers.one?.status, "final");
    assert.equal(view.drivers.two?.status, "lost");
    assert.equal(
      view.drivers.two?.lost_reason,
      "left (END or a signal) without sending its final report",
    );
    assert.equal(view.settled, true);
    assert.deepEqual(h.controller.registry.alive(), []);
  } finally {
    await h.close();
  }
});

Deno.test("the OpenAPI document describes END's optional body", async () => {
  const h = await createHarness();
  try {
    // deno-lint-ignore no-explicit-any
    const spec = (await call(h.app, "GET", "/api/openapi.json")).body as any;
    const end = spec.paths["/api/end"].post;
    assert.equal(end.requestBody.required, false);
    assert.ok(spec.components.schemas.EndRequest.properties.drivers);
    assert.deepEqual(Object.keys(end.responses).sort(), ["200", "400", "401", "404", "409", "503"]);
    assert.deepEqual(spec.components.schemas.Driver.properties.status.enum, [
      "alive",
      "lost",
      "left",
    ]);
  } finally {
    await h.close();
  }
});
