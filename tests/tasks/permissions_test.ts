/**
 * Least privilege (README "Security"): each deno.json task grants only what its process needs.
 * The grants are read from deno.json itself, and each server and client task is run here with its
 * own command line (as `deno task` runs it, from the repository root): it does its job, and is
 * refused what lies outside its grant.
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { taskCommand } from "../../up/plan.ts";
import { api, TEST_API_TOKEN } from "../support/api_json.ts";
import { testBrokers, uniquePrefix } from "../support/kafka.ts";
import { eventually, freePort, ProcessGroup } from "../support/processes.ts";

const TASKS: Record<string, string> = denoJson.tasks;
const ROOT = new URL("../..", import.meta.url).pathname;

/** A task's permission flags: name (`net`, `read`, ...) → its list, or "all" when unscoped. */
function grantsOf(task: string): Map<string, string> {
  const grants = new Map<string, string>();
  for (const word of TASKS[task]!.split(/\s+/)) {
    const flag = word.match(/^--allow-([a-z]+)(?:=(.+))?$/);
    if (flag) grants.set(flag[1]!, flag[2] ?? "all");
    assert.ok(word !== "-A" && word !== "--allow-all", `${task} grants everything`);
  }
  return grants;
}

/**
 * The tasks that may hold an unscoped permission, and why. Anything else a task grants must name
 * what it grants. The launchers run processes outside Deno's sandbox (deno children with their
 * own task's flags, Java, a shell, wrk), so narrowing their own grant would protect nothing.
 */
const UNSCOPED: Record<string, string[]> = {
  driver: ["net"], // it must reach whatever target a test names, and the brokers
  up: ["run", "net", "read", "write", "env", "sys"],
  demo: ["run", "net", "read", "write", "env", "sys"],
  test: ["run", "net", "read", "write", "env", "sys"],
  bench: ["run", "net", "read", "write", "env", "sys"],
};

Deno.test("every task scopes its permissions, but for the launchers and the driver's net", () => {
  const runs = Object.keys(TASKS).filter((t) => TASKS[t]!.startsWith("deno run"));
  assert.deepEqual(runs.sort(), [
    "bench",
    "demo",
    "driver",
    "end",
    "kafka",
    "loadtest",
    "orchestrator",
    "target",
    "test",
    "up",
  ]);
  for (const task of runs) {
    for (const [name, value] of grantsOf(task)) {
      if (value !== "all") continue;
      assert.ok(UNSCOPED[task]?.includes(name), `${task} grants --allow-${name} unscoped`);
    }
  }
  // What the servers and clients may touch, spelt out.
  assert.deepEqual(Object.fromEntries(grantsOf("target")), {
    net: "127.0.0.1",
    env: "PORT,HOST",
  });
  assert.equal(grantsOf("orchestrator").get("net"), "127.0.0.1");
  assert.equal(grantsOf("orchestrator").get("write"), ".data");
  assert.equal(grantsOf("orchestrator").get("run"), undefined);
  assert.equal(grantsOf("driver").get("write"), undefined);
  assert.equal(grantsOf("driver").get("read"), "driver,shared");
  assert.equal(grantsOf("loadtest").get("net"), "127.0.0.1");
  assert.equal(grantsOf("kafka").get("run"), "java,mvn,sh");
});

Deno.test({
  name: "the target, orchestrator, loadtest, end and kafka tasks work with their own grants only",
  // kafkajs inside the children is not ours to sanitize; this test only spawns and fetches.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const group = new ProcessGroup();
    const brokers = testBrokers().join(",");
    const env = {
      KAFKA_BROKERS: brokers,
      SURGE_TOPIC_PREFIX: uniquePrefix("perm"),
      SURGE_API_TOKEN: TEST_API_TOKEN,
    };
    // As `up` does: the test run's brokers are granted beside the task's own 127.0.0.1.
    const kafkaGrant = [`--allow-net=${brokers}`];
    const dataDir = `.data/permissions-test-${crypto.randomUUID().slice(0, 8)}`;
    const run = (task: string, args: string[], grants: string[] = []) =>
      taskCommand(TASKS, task, Deno.execPath(), args, grants).args;
    const finished = async (name: string, args: string[], extra: Record<string, string> = {}) => {
      const child = group.spawnDeno(name, args, { ...env, ...extra });
      const { code } = await child.status;
      return { code, output: child.output() };
    };
    try {
      const targetPort = freePort();
      const target = group.spawnDeno("target", run("target", ["--port", `${targetPort}`]));
      await target.waitForOutput(/surge target listening/);
      assert.equal(await (await fetch(`http://127.0.0.1:${targetPort}/ping`)).text(), "pong");

      const wide = await finished(
        "target-wide",
        run("target", ["--host", "0.0.0.0", "--port", `${freePort()}`]),
      );
      assert.equal(wide.code, 1, "listening on every interface is outside its grant");
      assert.match(wide.output, /Requires net access to "0\.0\.0\.0/);

      const outside = await finished(
        "orchestrator-outside",
        run("orchestrator", ["--port", "0", "--data-dir", "/tmp/surge-not-granted"], kafkaGrant),
      );
      assert.equal(outside.code, 1, "a data dir outside .data is outside its grant");
      assert.match(outside.output, /cannot use the data dir .*Requires (read|write) access/);

      const orchestrator = group.spawnDeno(
        "orchestrator",
        run("orchestrator", ["--port", "0", "--data-dir", dataDir], kafkaGrant),
        env,
      );
      const base = (await orchestrator.waitForOutput(/listening on (http:\/\/[\d.:]+)/))[1]!;
      // Swagger UI comes with the module graph: no read access outside the data dir needed.
      const bundle = await fetch(`${base}/api/docs/swagger-ui-bundle.js`);
      assert.equal(bundle.status, 200);
      assert.match(await bundle.text(), /SwaggerUIBundle/);
      await eventually("Kafka connected", async () => (await api(base, "GET", "/healthz")).ok);
      const { test_id: id } = await api(base, "POST", "/api/tests", {
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: 10,
        target_url: `http://127.0.0.1:${targetPort}/ping`,
      });

      const orch = ["--orchestrator", base];
      const list = await finished("loadtest-list", run("loadtest", ["list", "--json", ...orch]));
      assert.equal(list.code, 0, list.output);
      assert.match(list.output, new RegExp(id));
      const csv = `${dataDir}/report.csv`;
      const report = ["report", id, "--format", "csv", ...orch];
      const wrote = await finished("loadtest-report", run("loadtest", [...report, "--out", csv]));
      assert.equal(wrote.code, 0, wrote.output);
      assert.match(await Deno.readTextFile(`${ROOT}/${csv}`), /^test_id,scope,/);
      const away = await finished(
        "loadtest-away",
        run("loadtest", [...report, "--out", "/tmp/surge-not-granted.csv"]),
      );
      assert.equal(away.code, 1, "writing outside the repository is outside its grant");
      assert.match(away.output, /Requires write access to "\/tmp\/surge-not-granted\.csv"/);

      const topics = await finished("kafka", run("kafka", [], kafkaGrant));
      assert.equal(topics.code, 0, topics.output);
      assert.match(topics.output, /has surge's topics; not starting a broker/);

      const port = new URL(base).port;
      const end = await finished("end", run("end", [], kafkaGrant), { PORT: port });
      assert.equal(end.code, 0, end.output);
      assert.equal((await orchestrator.status).code, 0, "end stopped the orchestrator");
    } finally {
      await group.stopAll();
      await Deno.remove(`${ROOT}/${dataDir}`, { recursive: true }).catch(() => {});
    }
  },
});
