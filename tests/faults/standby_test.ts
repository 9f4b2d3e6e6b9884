/**
 * Two orchestrators on one cluster, as real processes on real Kafka: one is active, the other a
 * standby that answers reads, mirrors the active one's tests and refuses commands with 409 naming
 * it. SIGKILL the active one mid-test: the standby takes over within 10 s (the group's 6 s session
 * timeout plus a rebalance), the running test completes there with totals equal to the target's
 * count, and it takes commands. The killed one, started again, is the standby: the role stays.
 */
import assert from "node:assert/strict";
import { Cluster, startOrchestrator } from "../support/cluster.ts";
import { eventually, explainFailure } from "../support/processes.ts";
import { api, AUTH, type Json } from "../support/api_json.ts";

/** What the issue allows for a takeover after the active orchestrator dies. */
const TAKEOVER_BOUND_MS = 10_000;

/** The raw answer to a request, whatever its status. */
async function send(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? AUTH : { ...AUTH, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() as Json };
}

/** Waits until the orchestrator at `base` says it is `want` (active or standby). */
function role(base: string, want: string, ms = 30_000): Promise<Json> {
  return eventually(`${base} to be ${want}`, async () => {
    const { json } = await send(base, "GET", "/healthz").catch(() => ({ json: null }));
    return json?.role === want ? json : undefined;
  }, ms);
}

/** Waits until test `id` has settled on the orchestrator at `base`. */
function settled(base: string, id: string): Promise<Json> {
  return eventually(`test ${id} to settle on ${base}`, async () => {
    const test = await api(base, "GET", `/api/tests/${id}`);
    return test.settled ? test : undefined;
  }, 60_000);
}

Deno.test({
  name: "two orchestrators: one active, the standby refuses commands and takes over in ≤ 10 s",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const cluster = await Cluster.create("standby");
    const otherDir = await Deno.makeTempDir({ prefix: "surge-standby-b-" });
    const { counters, targetUrl } = cluster;
    const paced = (base: string, perDriver: number) =>
      api(base, "POST", "/api/tests", {
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: perDriver,
        target_throughput: 50,
        target_url: targetUrl,
        connections: 2,
      });
    try {
      let a = await cluster.startOrchestrator();
      let baseA = cluster.base;
      await role(baseA, "active");
      const b = await startOrchestrator(cluster.group, cluster.env, otherDir);
      const baseB = b.base;
      cluster.driver("one");
      cluster.driver("two");
      await cluster.idle(["one", "two"]);

      await t.step(
        "the standby serves reads, names the active one and refuses commands",
        async () => {
          const health = await role(baseB, "standby");
          assert.equal(health.active?.url, baseA);
          const refused = await send(baseB, "POST", "/api/tests", {
            test_type: "AVALANCHE",
            test_message_delay: 0,
            message_count_per_driver: 1,
            target_url: targetUrl,
          });
          assert.equal(refused.status, 409, JSON.stringify(refused.json));
          assert.match(refused.json.error, new RegExp(`active orchestrator .* at ${baseA}$`));
          assert.equal((await send(baseB, "POST", "/api/end")).status, 409);
          assert.equal((await send(baseB, "GET", "/api/tests")).status, 200);
        },
      );

      await t.step(
        "SIGKILL the active one mid-test: the standby takes over and completes it",
        async () => {
          counters.reset();
          const test = await paced(baseA, 400); // 8 s at 50/s per driver
          await api(baseA, "POST", `/api/tests/${test.test_id}/trigger`);
          // The standby mirrors the test from Kafka: running there too, on the same drivers.
          const mirrored = await explainFailure(
            eventually("the standby to mirror the running test", async () => {
              const { status, json } = await send(baseB, "GET", `/api/tests/${test.test_id}`);
              return status === 200 && json.state === "running" ? json : undefined;
            }),
            () => Promise.resolve(cluster.tails(30)),
          );
          assert.deepEqual(Object.keys(mirrored.drivers).sort(), ["one", "two"]);
          await new Promise((r) => setTimeout(r, 1_500));
          const killedAt = Date.now();
          a.kill("SIGKILL");
          await a.status;
          await role(baseB, "active", TAKEOVER_BOUND_MS + 5_000);
          const takeoverMs = Date.now() - killedAt;
          console.log(`standby took over ${takeoverMs} ms after SIGKILL`);
          assert.ok(takeoverMs <= TAKEOVER_BOUND_MS, `takeover took ${takeoverMs} ms`);

          const done = await settled(baseB, test.test_id);
          assert.equal(done.state, "finished", JSON.stringify(done.drivers));
          assert.equal(done.overall.requests, 800);
          assert.equal(done.overall.responses, counters.requestsReceived);
          assert.equal(done.overall.responses, 800);
        },
      );

      await t.step(
        "the new active one takes commands; the old one comes back as standby",
        async () => {
          a = await cluster.startOrchestrator();
          baseA = cluster.base;
          const health = await role(baseA, "standby");
          assert.equal(health.active?.url, baseB);
          counters.reset();
          const test = await paced(baseB, 50);
          await api(baseB, "POST", `/api/tests/${test.test_id}/trigger`);
          const done = await settled(baseB, test.test_id);
          assert.equal(done.state, "finished");
          assert.equal(done.overall.responses, 100);
          assert.equal(counters.requestsReceived, 100);
          assert.equal((await role(baseB, "active")).role, "active");
        },
      );
    } finally {
      await cluster.close();
      await Deno.remove(otherDir, { recursive: true }).catch(() => {});
    }
  },
});
