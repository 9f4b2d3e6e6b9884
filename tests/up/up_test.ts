import assert from "node:assert/strict";
import { isListening } from "../../shared/probe.ts";
import { freePortPair } from "../support/processes.ts";
import { pidsWith, processExists, startCluster } from "./cluster.ts";

Deno.test({
  name: "deno task up starts a cluster that serves, and leaves no process behind after SIGINT",
  // kafkajs inside the children is not ours to sanitize; this test only spawns and fetches.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await startCluster(2);
    let status: Deno.CommandStatus | undefined;
    try {
      const out = cluster.up.output();
      assert.match(out, new RegExp(`Dashboard: +${cluster.base}/`));
      // The token the orchestrator generated in its data dir, printed once the cluster is up.
      const file = `${cluster.dataDir}/api_token`;
      assert.equal(cluster.token, (await Deno.readTextFile(file)).trim());
      assert.match(out, new RegExp(`API token: +${cluster.token} +\\(from ${file}\\)`));
      const auth = { authorization: `Bearer ${cluster.token}` };
      assert.match(out, new RegExp(`API docs: +${cluster.base}/api/docs`));
      assert.match(
        out,
        /^orchestrator +\| surge orchestrator listening/m,
        "child output is prefixed",
      );
      assert.match(out, /^target +\| surge target listening/m);
      assert.deepEqual([...cluster.pids.keys()], ["target", "orchestrator", "one", "two"]);

      // A browser without the login cookie gets the login form; with the token, the dashboard.
      const login = await fetch(`${cluster.base}/`);
      assert.equal(login.url, `${cluster.base}/login?next=%2F`);
      assert.match(await login.text(), /<title>surge: log in<\/title>/);
      const page = await fetch(`${cluster.base}/`, { headers: auth });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>surge dashboard<\/title>/);
      const docs = await fetch(`${cluster.base}/api/docs`);
      assert.equal(docs.status, 200);
      await docs.body?.cancel();
      const { drivers } = await (await fetch(`${cluster.base}/api/drivers`, { headers: auth }))
        .json();
      assert.deepEqual(
        drivers.map((d: { node_id: string; status: string }) => `${d.node_id}:${d.status}`),
        ["one:alive", "two:alive"],
      );
      const ping = await fetch(cluster.target);
      assert.equal(await ping.text(), "pong");
    } finally {
      status = await cluster.stop();
    }
    assert.equal(status.code, 0, cluster.up.output().slice(-2000));
    assert.match(cluster.up.output(), /up: everything stopped/);
    for (const [name, pid] of cluster.pids) {
      assert.equal(await processExists(pid), false, `${name} (pid ${pid}) is still running`);
    }
    const port = Number(new URL(cluster.base).port);
    assert.equal(await isListening(port), false, "the orchestrator's port is closed");
  },
});

Deno.test("deno task up rejects a bad flag with a clear message and exit code 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "up/main.ts", "--drivers", "zero"],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(
    stderr,
    'up: --drivers must be a whole number from 1 to 20, got "zero"\nRun with --help for usage.\n',
  );
});

Deno.test({
  name: "deno task up without KAFKA_BROKERS starts its own Kafka and stops its JVM on SIGINT",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const kafkaPort = freePortPair();
    const repo = new URL("../..", import.meta.url).pathname;
    const dataDir = `${repo}.data/kafka-${kafkaPort}`;
    // An empty KAFKA_BROKERS counts as unset: up must start a broker of its own.
    const cluster = await startCluster(1, ["--kafka-port", String(kafkaPort)], {
      KAFKA_BROKERS: "",
    });
    let jvms: number[] = [];
    try {
      assert.match(
        cluster.up.output(),
        new RegExp(`kafka +\\| ready on 127\\.0\\.0\\.1:${kafkaPort}`),
      );
      jvms = await pidsWith(`${dataDir}/server.properties`);
      assert.ok(jvms.length > 0, "a JVM runs the broker");
      const { drivers } = await (await fetch(`${cluster.base}/api/drivers`, {
        headers: { authorization: `Bearer ${cluster.token}` },
      })).json();
      assert.equal(drivers[0].status, "alive");
    } finally {
      const status = await cluster.stop();
      assert.equal(status.code, 0, cluster.up.output().slice(-2000));
    }
    for (const pid of [...jvms, ...cluster.pids.values()]) {
      assert.equal(await processExists(pid), false, `pid ${pid} is still running`);
    }
    assert.equal(await isListening(kafkaPort), false);
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  },
});
