import assert from "node:assert/strict";
import { Store, type TestRecord } from "../../orchestrator/store.ts";
import { FakeDriver } from "./fake_driver.ts";

const record = (id: string, created: number): TestRecord => ({
  test_id: id,
  created_at: created,
  triggered_at: null,
  ended_at: null,
  config: {
    test_id: id,
    test_type: "AVALANCHE",
    test_message_delay: 0,
    message_count_per_driver: 10,
    target_url: "http://127.0.0.1:8080/ping",
    connections: 1,
    timeout_ms: 1000,
    method: "GET",
  },
  lifecycle: { state: "created", drivers: {} },
});

Deno.test("store: tests, snapshots and results survive closing and reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-store-" });
  const path = `${dir}/surge.sqlite`;
  try {
    const d = new FakeDriver("one", "a");
    const snap0 = d.record([1000, 2000]).report(1000);
    const snap1 = d.record([3000]).report(2000, true);
    {
      const store = new Store(path);
      const a = record("a", 1);
      store.insertTest(a);
      store.insertTest(record("b", 2));
      store.insertTest(record("c", 3));
      a.lifecycle = { state: "finished", drivers: { one: "final" } };
      a.triggered_at = 5;
      a.ended_at = 9;
      store.updateTest(a);
      store.addSnapshot(snap1, 100);
      store.addSnapshot(snap0, 101);
      store.addSnapshot(snap0, 102); // duplicate: ignored
      store.saveResults("a", { overall: { responses: 3 } }, { overall: [] });
      assert.throws(() => store.insertTest(record("a", 4)), /UNIQUE constraint failed/);
      assert.equal(store.meta("instance", () => "first"), "first");
      store.close();
    }
    const store = new Store(path);
    try {
      assert.equal(store.meta("instance", () => "second"), "first");
      assert.deepEqual(store.listTests().map((t) => t.test_id), ["c", "b", "a"]);
      assert.deepEqual(store.listTests(1).map((t) => t.test_id), ["c"]);
      const a = store.getTest("a")!;
      assert.deepEqual(a.lifecycle, { state: "finished", drivers: { one: "final" } });
      assert.equal(a.triggered_at, 5);
      assert.equal(a.ended_at, 9);
      assert.deepEqual(a.config, record("a", 1).config);
      assert.deepEqual(a.results, { overall: { responses: 3 } });
      assert.deepEqual(store.snapshots("a"), [snap0, snap1]);
      assert.equal(store.lastReportId("a", "one"), 1);
      assert.equal(store.lastReportId("a", "two"), -1);
      assert.deepEqual(store.openTests().map((t) => t.test_id), ["b", "c"]);
      // An ended test without cached results (still draining) is open too.
      const draining = record("d", 4);
      draining.lifecycle = { state: "stopped", drivers: { one: "running" } };
      store.insertTest(draining);
      assert.deepEqual(store.openTests().map((t) => t.test_id), ["b", "c", "d"]);
      assert.equal(store.getTest("zz"), undefined);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: a path that cannot be opened is a clear error", () => {
  assert.throws(
    () => new Store("/nonexistent-dir-for-surge/x/surge.sqlite"),
    /Cannot open the orchestrator database at \/nonexistent-dir-for-surge/,
  );
});
