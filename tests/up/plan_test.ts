import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import type { UpConfig } from "../../up/config.ts";
import { buildPlan, driverNames, taskCommand } from "../../up/plan.ts";
import { prefixOf } from "../../up/prefix.ts";

Deno.test("driverNames() counts in words like the seed, then numbers", () => {
  assert.deepEqual(driverNames(0), []);
  assert.deepEqual(driverNames(3), ["one", "two", "three"]);
  assert.equal(driverNames(20)[19], "twenty");
  assert.equal(driverNames(22)[21], "driver-22");
  assert.equal(new Set(driverNames(22)).size, 22);
});

Deno.test("taskCommand() runs a deno.json task's own command line directly", () => {
  const tasks = {
    a: "deno run --allow-net x/main.ts",
    b: "deno task a",
    c: "deno run x.ts && rm -rf /",
  };
  assert.deepEqual(taskCommand(tasks, "a", "/bin/deno", ["one"]), {
    cmd: "/bin/deno",
    args: ["run", "--allow-net", "x/main.ts", "one"],
  });
  assert.deepEqual(taskCommand(tasks, "a", "/bin/deno", ["one"], ["--allow-read=/d"]), {
    cmd: "/bin/deno",
    args: ["run", "--allow-read=/d", "--allow-net", "x/main.ts", "one"],
  }, "grants go before the script, with the task's own");
  assert.throws(() => taskCommand(tasks, "b", "/bin/deno"), /does not start with "deno run"/);
  assert.throws(() => taskCommand(tasks, "c", "/bin/deno"), /not a plain command/);
  assert.throws(() => taskCommand(tasks, "zz", "/bin/deno"), /no "zz" task/);
});

Deno.test("buildPlan() starts target, orchestrator, then the drivers, from the real deno.json", () => {
  const config: UpConfig = {
    drivers: 3,
    brokers: 1,
    demo: false,
    orchestratorPort: 8100,
    targetPort: 8180,
    kafkaPort: 9092,
    topicPrefix: "p.",
    dataDir: "/tmp/x",
  };
  const plan = buildPlan(config, ["127.0.0.1:9092"], denoJson.tasks, "/bin/deno");
  assert.deepEqual(plan.map((p) => p.name), ["target", "orchestrator", "one", "two", "three"]);
  assert.deepEqual(plan[0]!.ready, { kind: "http", url: "http://127.0.0.1:8180/metrics" });
  assert.deepEqual(plan[1]!.ready, { kind: "http", url: "http://127.0.0.1:8100/healthz" });
  assert.deepEqual(plan[4]!.ready, { kind: "driver", nodeId: "three" });
  assert.deepEqual(plan[0]!.args.slice(-2), ["--port", "8180"]);
  assert.deepEqual(plan[1]!.args.slice(-4), ["--port", "8100", "--data-dir", "/tmp/x"]);
  assert.ok(plan[1]!.args.includes("orchestrator/main.ts"));
  assert.deepEqual(plan[2]!.args.slice(-2), ["driver/main.ts", "one"]);
  // The orchestrator's task reaches 127.0.0.1 and `.data` only: up grants what it chose.
  const grants = plan[1]!.args.slice(0, plan[1]!.args.indexOf("orchestrator/main.ts"));
  for (
    const grant of ["--allow-net=127.0.0.1:9092", "--allow-read=/tmp/x", "--allow-write=/tmp/x"]
  ) {
    assert.ok(grants.includes(grant), `${grant} in ${grants}`);
  }
  for (const p of plan) {
    assert.equal(p.cmd, "/bin/deno");
    assert.equal(p.args[0], "run");
    assert.deepEqual(p.env, { KAFKA_BROKERS: "127.0.0.1:9092", SURGE_TOPIC_PREFIX: "p." });
  }
});

Deno.test("prefixOf pads the name and colours it on a terminal", () => {
  assert.equal(prefixOf("one", 0, 6, false), "one    | ");
  assert.equal(prefixOf("one", 0, 6, true), "\x1b[36mone    |\x1b[0m ");
});
