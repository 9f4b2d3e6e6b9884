/**
 * A broker outage mid-test: a dedicated Kafka broker (free ports, data in a temp dir; never the
 * shared one other tests use) is stopped 5 s into a 25 s paced test and started again 10 s
 * later on the same ports and data. The orchestrator and two drivers run as subprocesses on it,
 * the target in-process. The drivers keep loading the target; the orchestrator says on /healthz
 * that it cannot hear Kafka and declares nobody lost; the test finishes with every request
 * counted, equal to the target's own count; the next test runs normally.
 *
 * Every process, the broker and the temp dirs are cleaned up in `finally`, also on failure.
 */
import assert from "node:assert/strict";
import { defaultPaths } from "../../kafka/jars.ts";
import { type LocalBroker, startLocalBroker } from "../../kafka/local_broker.ts";
import { sleep } from "../../shared/async.ts";
import { createTargetApp } from "../../target/app.ts";
import { uniquePrefix } from "../support/kafka.ts";
import { eventually, freePortPair, ProcessGroup } from "../support/processes.ts";
import { api, type Json } from "../support/api_json.ts";
import { startOrchestrator } from "../support/cluster.ts";
import { singleNodeLayout } from "../../kafka/cluster_layout.ts";

const RATE = 100; // requests/s per driver
const DURATION_S = 25;
const STOP_AT_MS = 5_000; // after the trigger
const DOWN_MS = 10_000;

/** What the orchestrator said at one moment. */
interface Sample {
  at: number;
  healthStatus: number;
  kafka: { connected: boolean; since: string };
  lost: string[];
  /** Each driver's last heartbeat (epoch ms), as the orchestrator received it. */
  heard: number[];
}

/** Polls /healthz and /api/drivers every 200 ms until stopped. */
function watchOrchestrator(base: string) {
  const samples: Sample[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const health = await fetch(`${base}/healthz`);
        const body = await health.json();
        const { drivers } = await api(base, "GET", "/api/drivers");
        samples.push({
          at: Date.now(),
          healthStatus: health.status,
          kafka: body.kafka,
          lost: drivers.filter((d: Json) => d.status !== "alive").map((d: Json) => d.node_id),
          heard: drivers.map((d: Json) => Date.parse(d.last_heartbeat)),
        });
      } catch {
        // the orchestrator is busy for a moment: the next round asks again
      }
      await sleep(200);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

Deno.test({
  name: "broker outage of 10 s mid-test: nobody lost, /healthz says so, every request counted",
  // kafkajs (the broker's readiness probe) leaves internal timers behind.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const port = freePortPair();
    const prefix = uniquePrefix("outage");
    const kafkaDir = await Deno.makeTempDir({ prefix: "surge-outage-kafka-" });
    const orchestratorDir = await Deno.makeTempDir({ prefix: "surge-outage-orch-" });
    const startBroker = (wipe: boolean) =>
      startLocalBroker({
        node: singleNodeLayout(port),
        paths: { ...defaultPaths(port), dataDir: kafkaDir },
        wipe,
        heap: "512m",
        topicPrefix: prefix,
      }).catch(async (err) => {
        // The temp dir goes in `finally`: keep the broker's last words in the failure.
        const log = await Deno.readTextFile(`${kafkaDir}/broker.log`).catch(() => "");
        const tail = log.split("\n").slice(-40).join("\n");
        throw new Error(`${(err as Error).message}\n${tail}`, { cause: err });
      });
    const { app, counters } = createTargetApp();
    const target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const targetUrl = `http://127.0.0.1:${target.addr.port}/ping`;
    const group = new ProcessGroup();
    let broker: LocalBroker | undefined;
    let watcher: ReturnType<typeof watchOrchestrator> | undefined;
    try {
      broker = await startBroker(true);
      const env = {
        KAFKA_BROKERS: broker.brokers.join(","),
        SURGE_TOPIC_PREFIX: prefix,
        LOG_LEVEL: "info",
      };
      const { child: orch, base } = await startOrchestrator(group, env, orchestratorDir);
      const drivers = ["one", "two"].map((id) =>
        group.spawnDeno(id, ["run", "-A", "driver/main.ts", id, "--workers", "1"], env)
      );
      await eventually("both drivers alive", async () => {
        const { drivers } = await api(base, "GET", "/api/drivers");
        return drivers.filter((d: Json) => d.status === "alive").length === 2;
      }, 60_000);

      const created = await api(base, "POST", "/api/tests", {
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: 0,
        duration_s: DURATION_S,
        target_throughput: RATE,
        target_url: targetUrl,
        connections: 4,
      });
      const testId: string = created.test_id;
      watcher = watchOrchestrator(base);
      await api(base, "POST", `/api/tests/${testId}/trigger`);
      const triggeredAt = Date.now();
      await sleep(STOP_AT_MS);
      const beforeStop = counters.requestsReceived;
      const stopAt = Date.now();
      await broker.stop();
      const stoppedAt = Date.now();
      await sleep(DOWN_MS);
      const duringOutage = counters.requestsReceived - beforeStop;
      const restartAt = Date.now();
      broker = await startBroker(false);
      const readyAt = Date.now();

      const test = await eventually(`test ${testId} to settle`, async () => {
        const view = await api(base, "GET", `/api/tests/${testId}`);
        return view.settled ? view : undefined;
      }, 120_000);
      const settledAt = Date.now();
      // The finals may arrive on the metrics consumer a moment before the others rejoin.
      await eventually("/healthz to answer 200 again", async () => {
        const res = await fetch(`${base}/healthz`);
        await res.body?.cancel();
        return res.status === 200;
      }, 30_000);
      const healthyAt = Date.now();
      await watcher.stop();
      const samples = watcher.samples;

      // /healthz said so while the broker was away, and the orchestrator lost nobody.
      const down = samples.filter((s) => s.healthStatus === 503);
      assert.ok(down.length > 0, "/healthz never answered 503 during the outage");
      for (const s of down) assert.equal(s.kafka.connected, false);
      const firstDown = down[0]!.at;
      const lastDown = down.at(-1)!.at;
      assert.ok(
        down.some((s) => s.at > stopAt && s.at < restartAt),
        "503 while the broker was down",
      );
      const everLost = samples.filter((s) => s.lost.length > 0);
      assert.deepEqual(everLost, [], "a driver was marked lost");
      assert.doesNotMatch(orch.output(), /driver lost/);
      // After the orchestrator heard Kafka again, how long until it heard each driver: the
      // fresh window is 3 heartbeat intervals, so this must stay below 3 s to lose nobody.
      const unheard = samples.filter((s) => s.kafka.connected && Date.parse(s.kafka.since) > stopAt)
        .flatMap((s) => {
          const since = Date.parse(s.kafka.since);
          return s.heard.filter((h) => h < since).map(() => s.at - since);
        });
      const unheardMs = Math.max(0, ...unheard);
      // The drivers kept loading the target while Kafka was away: 10 s at 2 × 100/s.
      assert.ok(duringOutage >= 0.9 * 2 * RATE * DOWN_MS / 1000, `${duringOutage} during outage`);

      // The test finished with every request counted, equal to the target's own count.
      assert.equal(test.state, "finished", JSON.stringify(test.reason));
      assert.equal(test.drivers.one.status, "final");
      assert.equal(test.drivers.two.status, "final");
      const { overall } = test;
      assert.equal(overall.requests, overall.responses + overall.errors);
      assert.equal(overall.requests, counters.requestsReceived);
      assert.equal(overall.responses, counters.responsesSent);
      // Paced: every slot of 25 s at 100/s on each driver was sent or dropped.
      const slots = overall.requests + overall.dropped;
      assert.ok(Math.abs(slots - 2 * RATE * DURATION_S) <= 2, `${slots} slots`);
      console.log(
        `outage: broker stopping at +${stopAt - triggeredAt} ms, stopped at +${
          stoppedAt - triggeredAt
        } ms, restarted at ` +
          `+${restartAt - triggeredAt} ms, ready at +${readyAt - triggeredAt} ms; /healthz 503 ` +
          `from +${firstDown - triggeredAt} to +${lastDown - triggeredAt} ms (${down.length} ` +
          `samples); settled at +${settledAt - triggeredAt} ms, /healthz 200 at +${
            healthyAt - triggeredAt
          } ms; drivers unheard for up to ${unheardMs} ms after the orchestrator reconnected; ` +
          `${overall.requests} requests ` +
          `(${duringOutage} while Kafka was away), ${overall.dropped} dropped, ` +
          `target counted ${counters.requestsReceived}`,
      );

      // The drivers were not left busy: the next test runs normally. Commands wait until this
      // orchestrator holds the active role again (its election membership may have lapsed).
      await eventually("the orchestrator active again", async () => {
        const health = await fetch(`${base}/healthz`).then((r) => r.json()).catch(() => null);
        return health?.role === "active";
      }, 60_000);
      counters.reset();
      const next = await api(base, "POST", "/api/tests", {
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: 200,
        target_url: targetUrl,
        connections: 2,
      });
      await api(base, "POST", `/api/tests/${next.test_id}/trigger`);
      const second = await eventually("the second test to settle", async () => {
        const view = await api(base, "GET", `/api/tests/${next.test_id}`);
        return view.settled ? view : undefined;
      }, 60_000);
      assert.equal(second.state, "finished");
      assert.equal(second.overall.responses, 400);
      assert.equal(counters.responsesSent, 400);
      for (const child of drivers) assert.equal(child.done(), false, `${child.name} exited`);
    } finally {
      await watcher?.stop();
      await group.stopAll();
      await target.shutdown();
      await broker?.stop(5_000);
      for (const dir of [kafkaDir, orchestratorDir]) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  },
});
