/**
 * Deleting tests: the pure rules (which tests the policy no longer keeps, why one cannot go yet),
 * `DELETE /api/tests/{id}` in-process, and the retention policy at start and after a settle.
 */
import assert from "node:assert/strict";
import { createApiClient } from "../../cli/api_client.ts";
import { ApiError } from "../../shared/api_error.ts";
import { MemoryBus } from "../../shared/bus.ts";
import type { Lifecycle } from "../../orchestrator/lifecycle.ts";
import { expiredTests, notDeletable, type TestAge } from "../../orchestrator/retention.ts";
import { Store } from "../../orchestrator/store.ts";
import { FakeDriver } from "./fake_driver.ts";
import { AVALANCHE, call, createHarness, type Harness, ManualClock } from "./harness.ts";
import { TEST_API_TOKEN } from "../support/api_json.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const DAY = 86_400_000;
const NOW = 100 * DAY;

/** Tests newest first: `settled` flags, created one day apart, the newest today. */
function ages(...settled: boolean[]): TestAge[] {
  return settled.map((s, i) => ({
    test_id: `t${settled.length - i}`,
    created_at: NOW - i * DAY,
    settled: s,
  }));
}

Deno.test("expiredTests(): the settled tests beyond the newest N or older than D days", () => {
  const table: [string, TestAge[], number, number, string[]][] = [
    ["no limits keep everything", ages(true, true, true), 0, 0, []],
    ["within the count", ages(true, true), 2, 0, []],
    ["beyond the count, oldest go", ages(true, true, true, true), 2, 0, ["t2", "t1"]],
    ["open tests count but stay", ages(false, true, false, true), 2, 0, ["t1"]],
    ["older than D days", ages(true, true, true, true), 0, 1.5, ["t2", "t1"]],
    ["exactly D days old stays", ages(true, true), 0, 1, []],
    ["either limit deletes", ages(true, true, true, true), 3, 2.5, ["t1"]],
    ["an old open test stays", ages(true, false), 0, 0.5, []],
    ["nothing stored", [], 1, 1, []],
  ];
  for (const [name, tests, keepTests, keepDays, want] of table) {
    assert.deepEqual(expiredTests(tests, { keepTests, keepDays }, NOW), want, name);
  }
});

Deno.test("notDeletable(): says why a test that can still change cannot go", () => {
  const lc = (state: Lifecycle["state"], one: "running" | "final" = "final"): Lifecycle => ({
    state,
    drivers: { one },
  });
  const table: [string, Lifecycle, boolean, RegExp | undefined][] = [
    ["created", { state: "created", drivers: {} }, false, /it is created; stop it first$/],
    ["running", lc("running", "running"), false, /it is running; stop it, or wait/],
    [
      "stopped, draining",
      lc("stopped", "running"),
      false,
      /it is stopped, but its drivers are still sending their final metrics/,
    ],
    [
      "settled in memory only",
      lc("finished"),
      false,
      /it is finished, but its results are not stored yet/,
    ],
    ["finished and stored", lc("finished"), true, undefined],
    ["stopped and stored", lc("stopped"), true, undefined],
    ["failed and stored", lc("failed"), true, undefined],
  ];
  for (const [name, lifecycle, stored, want] of table) {
    const why = notDeletable("t1", lifecycle, stored);
    if (want === undefined) assert.equal(why, undefined, name);
    else assert.match(why ?? "", new RegExp(`^Cannot delete test "t1": ${want.source}`), name);
  }
});

/** Creates a test, runs it on driver "one" and lets it finish; returns its id. */
async function runToFinish(h: Harness): Promise<string> {
  await h.heartbeat("one");
  const id = String((await call(h.app, "POST", "/api/tests", AVALANCHE)).body.test_id);
  await h.controller.trigger(id);
  await h.metrics(new FakeDriver("one", id).record([1000, 2000]).report(1000, true));
  assert.equal(h.controller.getTest(id).state, "finished");
  return id;
}

const ids = (h: Harness) => h.controller.listTests().map((t) => t.test_id);

Deno.test("DELETE /api/tests/{id}: a settled test goes with its metrics; 409 while it can change; 404 unknown", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await call(h.app, "POST", "/api/tests", AVALANCHE);
    let res = await call(h.app, "DELETE", "/api/tests/t1");
    assert.equal(res.status, 409);
    assert.equal(res.body.error, 'Cannot delete test "t1": it is created; stop it first');
    await h.controller.trigger("t1");
    res = await call(h.app, "DELETE", "/api/tests/t1");
    assert.equal(res.status, 409);
    assert.match(String(res.body.error), /it is running/);
    await h.controller.stop("t1");
    res = await call(h.app, "DELETE", "/api/tests/t1");
    assert.equal(res.status, 409, "stopped, but its driver's final report is still due");
    assert.match(String(res.body.error), /still sending their final metrics/);
    await h.metrics(new FakeDriver("one", "t1").record([1000]).report(1000, true));
    assert.equal(h.store.snapshots("t1").length, 1);

    const kept = await runToFinish(h);
    res = await call(h.app, "DELETE", "/api/tests/t1");
    assert.equal(res.status, 204);
    assert.equal(res.text, "");
    assert.equal((await call(h.app, "GET", "/api/tests/t1")).status, 404);
    assert.deepEqual(h.store.snapshots("t1"), [], "its metrics went with it");
    assert.deepEqual(ids(h), [kept]);
    assert.equal(h.store.snapshots(kept).length, 1, "another test's metrics stay");
    res = await call(h.app, "DELETE", "/api/tests/t1");
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'No test with id "t1"');

    const spec = (await call(h.app, "GET", "/api/openapi.json")).body as Json;
    const op = spec.paths["/api/tests/{test_id}"].delete;
    assert.deepEqual(Object.keys(op.responses).sort(), ["204", "401", "404", "409", "503"]);
  } finally {
    await h.close();
  }
});

Deno.test("the API client (loadtest delete) deletes a settled test and reports a refusal", async () => {
  const h = await createHarness();
  try {
    const api = createApiClient("http://localhost", {
      fetch: (input, init) => Promise.resolve(h.app.request(String(input), init)),
      token: TEST_API_TOKEN,
    });
    const id = await runToFinish(h);
    await call(h.app, "POST", "/api/tests", AVALANCHE);
    await api.deleteTest(id);
    assert.deepEqual(ids(h), ["t2"]);
    await assert.rejects(
      api.deleteTest("t2"),
      (err) => err instanceof ApiError && err.status === 409,
    );
  } finally {
    await h.close();
  }
});

Deno.test("retention: the newest N tests are kept; older settled ones go after each settle", async () => {
  const h = await createHarness({ controller: { retention: { keepTests: 2, keepDays: 0 } } });
  try {
    const [a, b, c] = [await runToFinish(h), await runToFinish(h), await runToFinish(h)];
    h.controller.tick();
    assert.deepEqual(ids(h), [c, b], `${a} went: 3 settled tests, 2 kept`);
    assert.deepEqual(h.store.snapshots(a!), []);
    // An open test counts towards the N but is never deleted itself.
    const open = String((await call(h.app, "POST", "/api/tests", AVALANCHE)).body.test_id);
    h.controller.tick();
    assert.deepEqual(ids(h), [open, c, b], "nothing settled since: the policy did not run");
    const d = await runToFinish(h);
    h.controller.tick();
    assert.deepEqual(ids(h), [d, open], "the two newest");
  } finally {
    await h.close();
  }
});

Deno.test("retention: applied at start, by count and by age", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-retention-" });
  const path = `${dir}/surge.sqlite`;
  const clock = new ManualClock();
  try {
    const first = await createHarness({ store: new Store(path), clock });
    for (let i = 0; i < 4; i++) {
      await runToFinish(first);
      clock.advance(DAY);
    }
    await first.close();
    // Now t1..t4 are 4, 3, 2 and 1 days old.
    const second = await createHarness({
      store: new Store(path),
      bus: new MemoryBus(),
      clock,
      controller: { retention: { keepTests: 3, keepDays: 2.5 } },
    });
    try {
      assert.deepEqual(ids(second), ["t4", "t3"], "t1 beyond the count, t2 too old");
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
