/**
 * Elastic drivers on real Kafka, with real processes: three drivers; `deno task end --driver
 * three` ends that one alone (it exits 0, shows `left`, and the orchestrator keeps running); the
 * next test, triggered without naming drivers, runs on exactly the other two, and the target
 * counts 2 × the per-driver count; a fourth driver joins between tests, and the next test —
 * started with `deno task loadtest`, which says first which drivers it is about to run on — runs
 * on the three alive, the target counting 3 × the per-driver count.
 */
import assert from "node:assert/strict";
import { type Json, TEST_API_TOKEN } from "../support/api_json.ts";
import { Cluster } from "../support/cluster.ts";

/** Requests per driver: a few seconds at most on a loaded 2-core machine. */
const N = 200;

const test = (targetUrl: string) => ({
  test_type: "AVALANCHE",
  test_message_delay: 0,
  message_count_per_driver: N,
  target_url: targetUrl,
  connections: 2,
});

Deno.test({
  name: "e2e: END to one driver of three, the next test on the other two, then a fourth joins",
  // kafkajs runs in the subprocesses; this process holds only fetches and the target.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const cluster = await Cluster.create("elastic");
    const clientEnv = { ...cluster.env, SURGE_API_TOKEN: TEST_API_TOKEN };
    try {
      await cluster.startOrchestrator();
      const three = cluster.driver("three");
      cluster.driver("one");
      cluster.driver("two");
      await cluster.idle(["one", "two", "three"]);

      await t.step("deno task end --driver three ends that driver alone", async () => {
        const end = cluster.group.spawnDeno("end", [
          "run",
          "-A",
          "orchestrator/end.ts",
          "--orchestrator",
          cluster.base,
          "--driver",
          "three",
          "--timeout-ms",
          "60000",
        ], clientEnv);
        const ended = await end.status;
        assert.equal(ended.code, 0, end.output());
        assert.match(end.output(), /ended three \(left\); the orchestrator keeps running/);
        assert.equal((await three.status).code, 0, three.output());
        assert.match(three.output(), /END received: finishing/);
        const { drivers } = await cluster.api("GET", "/api/drivers");
        assert.deepEqual(
          (drivers as Json[]).map((d) => `${d.node_id} ${d.status}`),
          ["one alive", "three left", "two alive"],
        );
        // The orchestrator is still there, counting two drivers alive.
        const health = await (await fetch(`${cluster.base}/healthz`)).json();
        assert.equal(health.drivers_alive, 2);
      });

      await t.step("the next test runs on exactly the two left alive", async () => {
        cluster.counters.reset();
        const { test_id: id } = await cluster.api("POST", "/api/tests", test(cluster.targetUrl));
        const triggered = await cluster.api("POST", `/api/tests/${id}/trigger`);
        assert.deepEqual(Object.keys(triggered.drivers).sort(), ["one", "two"]);
        const done = await cluster.settled(id);
        assert.equal(done.state, "finished", JSON.stringify(done.drivers));
        assert.deepEqual(Object.keys(done.drivers).sort(), ["one", "two"]);
        assert.equal(done.overall.responses, 2 * N);
        assert.equal(cluster.counters.requestsReceived, 2 * N);
      });

      await t.step(
        "a fourth driver joins; loadtest names the three alive and runs on them",
        async () => {
          cluster.driver("four");
          await cluster.idle(["one", "two", "four"]);
          cluster.counters.reset();
          const loadtest = cluster.group.spawnDeno("loadtest", [
            "run",
            "-A",
            "cli/main.ts",
            "--orchestrator",
            cluster.base,
            "--target",
            cluster.targetUrl,
            "--count",
            String(N),
            "--connections",
            "2",
            "--json",
          ], clientEnv);
          const status = await loadtest.status;
          const output = loadtest.output();
          assert.equal(status.code, 0, output);
          const announced = output.indexOf(
            "about to run on 3 drivers: four (127.0.0.1), one (127.0.0.1), two (127.0.0.1)",
          );
          assert.ok(announced >= 0, output);
          assert.ok(announced < output.indexOf("triggered test"), "announced before the trigger");
          const view = JSON.parse(output.split("\n").find((l) => l.startsWith("{"))!);
          assert.deepEqual(Object.keys(view.drivers).sort(), ["four", "one", "two"]);
          assert.equal(view.state, "finished");
          assert.equal(view.overall.responses, 3 * N);
          assert.equal(cluster.counters.requestsReceived, 3 * N);
        },
      );
    } finally {
      await cluster.close();
    }
  },
});
