/**
 * The whole system through HTTP only: real Kafka, the real target (in-process), the orchestrator
 * and two drivers as subprocesses on a unique topic prefix and free ports. Every subprocess is
 * killed in a `finally`.
 */
import assert from "node:assert/strict";
import { Kafka } from "kafkajs";
import { createTargetApp } from "../../target/app.ts";
import { installKafkajsFixes } from "../../shared/kafkajs_fixes.ts";
import { TOPIC_KINDS, topicNames } from "../../shared/topics.ts";
import { testBrokers, uniquePrefix } from "../support/kafka.ts";
import { eventually, ProcessGroup, type TestProcess } from "../support/processes.ts";
import { api, type Json, TEST_API_TOKEN } from "../support/api_json.ts";

const HEARTBEAT_MS = 1000;

/** Polls for up to a minute: starting JVM-backed consumers on a busy 2-core machine is slow. */
const until = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000) =>
  eventually(what, probe, ms);

async function runTest(base: string, config: Json): Promise<Json> {
  const created = await api(base, "POST", "/api/tests", config);
  await api(base, "POST", `/api/tests/${created.test_id}/trigger`);
  return await until(`test ${created.test_id} to settle`, async () => {
    const test = await api(base, "GET", `/api/tests/${created.test_id}`);
    return test.settled ? test : undefined;
  });
}

const sumDrivers = (test: Json, field: string) =>
  Object.values(test.drivers as Record<string, Json>).reduce((n, d) => n + d[field], 0);

Deno.test({
  name: "e2e: orchestrator + two real drivers + target, through HTTP only",
  // kafkajs (poison producer) leaves internal timers behind; every client is disconnected.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const brokers = testBrokers();
    const prefix = uniquePrefix("e2e");
    const env = {
      KAFKA_BROKERS: brokers.join(","),
      SURGE_TOPIC_PREFIX: prefix,
      LOG_LEVEL: "info",
      NO_COLOR: "1",
      // The orchestrator's token, and `deno task end`'s.
      SURGE_API_TOKEN: TEST_API_TOKEN,
    };
    const dataDir = await Deno.makeTempDir({ prefix: "surge-e2e-" });
    const { app, counters } = createTargetApp();
    const target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const targetUrl = `http://127.0.0.1:${target.addr.port}/ping`;
    const group = new ProcessGroup();
    const spawn = (name: string, args: string[]) =>
      group.spawnDeno(name, ["run", "-A", ...args], env);
    const orchestrator = () =>
      spawn("orchestrator", [
        "orchestrator/main.ts",
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--heartbeat-ms",
        String(HEARTBEAT_MS),
      ]);
    const driver = (id: string, ...extra: string[]) =>
      spawn(id, [
        "driver/main.ts",
        id,
        "--workers",
        "1",
        "--heartbeat-ms",
        String(HEARTBEAT_MS),
        ...extra,
      ]);
    const listening = async (child: TestProcess) =>
      (await child.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    const driversAlive = (base: string, ids: string[]) =>
      until(`drivers ${ids} alive`, async () => {
        const { drivers } = await api(base, "GET", "/api/drivers");
        return ids.every((id) =>
          drivers.some((d: Json) => d.node_id === id && d.status === "alive")
        );
      });
    try {
      let orch = orchestrator();
      let base = await listening(orch);
      const one = driver("one");
      let two = driver("two");
      await driversAlive(base, ["one", "two"]);
      let avalanche: Json;

      await t.step(
        "avalanche: overall = 2N = sum of drivers = the target's own count",
        async () => {
          // Avalanche: N per driver; overall = 2N = sum of drivers = what the target counted.
          const N = 300;
          counters.reset();
          avalanche = await runTest(base, {
            test_type: "AVALANCHE",
            test_message_delay: 0,
            message_count_per_driver: N,
            target_url: targetUrl,
            connections: 4,
          });
          assert.equal(avalanche.state, "finished");
          assert.equal(avalanche.overall.responses, 2 * N);
          assert.equal(sumDrivers(avalanche, "responses"), 2 * N);
          assert.equal(counters.responsesSent, 2 * N);
          assert.equal(avalanche.drivers.one.status, "final");
          assert.equal(avalanche.drivers.two.status, "final");
          // The merged histogram spans exactly the drivers' own extremes.
          const extremes = Object.values(avalanche.drivers as Record<string, Json>)
            .map((d) => d.latency_ms as { min: number; max: number });
          assert.equal(avalanche.overall.latency_ms.max, Math.max(...extremes.map((l) => l.max)));
          assert.equal(avalanche.overall.latency_ms.min, Math.min(...extremes.map((l) => l.min)));
        },
      );

      await t.step("tsunami: finishes with every response counted", async () => {
        // Tsunami: a fixed gap between requests on each driver.
        const tsunami = await runTest(base, {
          test_type: "TSUNAMI",
          test_message_delay: 20,
          message_count_per_driver: 25,
          target_url: targetUrl,
          connections: 2,
        });
        assert.equal(tsunami.state, "finished");
        assert.equal(tsunami.overall.responses, 50);
        const series = await api(base, "GET", `/api/tests/${tsunami.test_id}/timeseries`);
        assert.equal(series.overall.reduce((n: number, p: Json) => n + p.responses, 0), 50);
      });

      await t.step("2 s report intervals at 1,000/s: every whole second ≈ 1,000", async () => {
        // A driver that reports every 2 s; the series is in wall-clock seconds since the trigger,
        // so each 2 s report is spread over its two seconds instead of a 0 next to a 2,000.
        const three = driver("three", "--report-ms", "2000");
        try {
          await driversAlive(base, ["three"]);
          const steady = await runTest(base, {
            test_type: "AVALANCHE",
            test_message_delay: 0,
            message_count_per_driver: 0,
            duration_s: 5,
            target_throughput: 1000,
            target_url: targetUrl,
            connections: 10,
            drivers: ["three"],
          });
          assert.equal(steady.state, "finished");
          const series = await api(base, "GET", `/api/tests/${steady.test_id}/timeseries`);
          const perSecond: number[] = series.overall.map((p: Json) => p.throughput);
          assert.equal(perSecond.reduce((a, b) => a + b, 0), steady.overall.responses);
          // The first and last seconds are partial (the driver starts a moment after the
          // trigger); every second in between carries ~1,000, none 0 and none 2,000.
          const inner = perSecond.slice(1, -1);
          assert.ok(inner.length >= 3, JSON.stringify(perSecond));
          for (const n of inner) assert.ok(n >= 900 && n <= 1100, JSON.stringify(perSecond));
          assert.ok(Math.max(...perSecond) <= 1100, JSON.stringify(perSecond));
        } finally {
          three.kill("SIGTERM");
          await three.status;
        }
      });

      await t.step(
        "SIGKILL: the driver is lost within three heartbeat intervals; the test finishes",
        async () => {
          // SIGKILL a driver mid-test: lost within three heartbeat intervals, the test finishes.
          const paced = await api(base, "POST", "/api/tests", {
            test_type: "AVALANCHE",
            test_message_delay: 0,
            message_count_per_driver: 500,
            target_throughput: 50,
            target_url: targetUrl,
            connections: 2,
          });
          await api(base, "POST", `/api/tests/${paced.test_id}/trigger`);
          await until("driver two to report", async () => {
            const t = await api(base, "GET", `/api/tests/${paced.test_id}`);
            return t.drivers.two?.responses > 0;
          });
          two.kill("SIGKILL");
          const killedAt = Date.now();
          await two.status;
          await until("two marked lost", async () => {
            const { drivers } = await api(base, "GET", "/api/drivers");
            return drivers.find((d: Json) => d.node_id === "two")?.status === "lost";
          }, 10_000);
          const lostAfter = Date.now() - killedAt;
          // Lost at (last heartbeat + 3 intervals) <= kill + 3 intervals; up to 1 s more for Kafka
          // delivery of that last heartbeat, the 100 ms sweep and this poll on a busy machine.
          assert.ok(lostAfter <= 3 * HEARTBEAT_MS + 1000, `lost after ${lostAfter} ms`);
          // While one still runs (500 at 50/s: 10 s), the current rate is one's alone.
          const during = await until("two lost in the test, one still running", async () => {
            const t = await api(base, "GET", `/api/tests/${paced.test_id}`);
            return t.drivers.two.status === "lost" && t.drivers.one.status === "running" &&
              t.drivers.one.rps.last > 0 && t;
          });
          assert.equal(during.drivers.two.rps.last, 0);
          assert.equal(during.overall.rps.last, during.drivers.one.rps.last);
          assert.ok(
            during.overall.rps.last >= 40 && during.overall.rps.last <= 60,
            `rps.last ${during.overall.rps.last} for one driver at 50/s`,
          );
          const survived = await until("the paced test to settle", async () => {
            const t = await api(base, "GET", `/api/tests/${paced.test_id}`);
            return t.settled ? t : undefined;
          });
          assert.equal(survived.state, "finished");
          assert.equal(survived.drivers.two.status, "lost");
          assert.ok(survived.drivers.two.responses > 0, "the lost driver's numbers stay");
          assert.equal(survived.drivers.one.responses, 500);
        },
      );

      await t.step("restart: every result survives", async () => {
        // Restart the orchestrator: every result is still there, unchanged.
        const before = await api(base, "GET", "/api/tests");
        orch.kill("SIGTERM");
        assert.equal((await orch.status).code, 0);
        orch = orchestrator();
        base = await listening(orch);
        const after = await api(base, "GET", "/api/tests");
        assert.deepEqual(after, before);
        const again = await api(base, "GET", `/api/tests/${avalanche.test_id}`);
        assert.deepEqual(again.overall, avalanche.overall);
      });

      await t.step("poison on every topic does not disturb the next test", async () => {
        // Poison on every topic, then the next test runs normally (with a restarted "two").
        installKafkajsFixes();
        const kafka = new Kafka({ clientId: "e2e-poison", brokers, logLevel: 0 });
        const producer = kafka.producer();
        await producer.connect();
        try {
          const topics = topicNames(prefix);
          for (const kind of TOPIC_KINDS) {
            await producer.send({
              topic: topics[kind],
              messages: [{ value: "garbage" }, { value: "{}" }, { value: null }, {
                value: JSON.stringify({ trigger: "YES", test_id: "../x", timestamp: -1 }),
              }],
            });
          }
        } finally {
          await producer.disconnect();
        }
        two = driver("two");
        await driversAlive(base, ["one", "two"]);
        counters.reset();
        const next = await runTest(base, {
          test_type: "AVALANCHE",
          test_message_delay: 0,
          message_count_per_driver: 100,
          target_url: targetUrl,
          connections: 2,
        });
        assert.equal(next.state, "finished");
        assert.equal(next.overall.responses, 200);
        assert.equal(counters.responsesSent, 200);
        // The restarted orchestrator replays register and resumes metrics from its stored
        // offsets, so it counted exactly the 4 poison messages of each. Heartbeats are read from
        // the newest offset when its consumer joins (old ones say nothing about now), so it sees
        // those sent after it joined: at most 4.
        const health = await until("poison counted", async () => {
          const h = await api(base, "GET", "/healthz");
          return h.invalid_messages.metrics === 4 && h.invalid_messages.register === 4 && h;
        });
        assert.ok(health.invalid_messages.heartbeat <= 4, JSON.stringify(health));
      });

      await t.step("a test running across an orchestrator crash completes from Kafka", async () => {
        counters.reset();
        const created = await api(base, "POST", "/api/tests", {
          test_type: "AVALANCHE",
          test_message_delay: 0,
          message_count_per_driver: 150,
          target_throughput: 50,
          target_url: targetUrl,
          connections: 2,
        });
        await api(base, "POST", `/api/tests/${created.test_id}/trigger`);
        await until("first metrics", async () => {
          const test = await api(base, "GET", `/api/tests/${created.test_id}`);
          return test.overall.responses > 0;
        });
        orch.kill("SIGKILL");
        await orch.status;
        orch = orchestrator();
        base = await listening(orch);
        const done = await until("the test to settle after the crash", async () => {
          const test = await api(base, "GET", `/api/tests/${created.test_id}`);
          return test.settled ? test : undefined;
        });
        assert.equal(done.state, "finished");
        assert.equal(done.drivers.one.status, "final");
        assert.equal(done.drivers.two.status, "final");
        assert.equal(done.overall.responses, 300);
        assert.equal(counters.responsesSent, 300);
      });

      await t.step("deno task end: drivers, then the orchestrator, exit 0", async () => {
        // `deno task end`: drivers finish and exit, then the orchestrator; all exit 0.
        const end = spawn("end", ["orchestrator/end.ts", "--orchestrator", base]);
        assert.equal((await end.status).code, 0, end.output());
        for (const child of [one, two, orch]) {
          const status = await child.status;
          assert.equal(
            status.code,
            0,
            `${child.name} exit:\n${child.output().split("\n").slice(-20).join("\n")}`,
          );
        }
      });
    } finally {
      for (const child of group.processes) child.kill("SIGKILL");
      await Promise.allSettled(group.processes.map((c) => c.status));
      await target.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
