/**
 * Where drivers may aim, for real: an orchestrator and two driver processes on real Kafka with a
 * fleet key (so every command here is signed by the orchestrator and checked by the drivers),
 * one driver with the default policy ("open") and one allowed only 10.0.0.0/8 ("fenced").
 *
 * No packet may leave this machine: the drivers run with `--allow-net` limited to 127.0.0.1 and
 * the brokers, so even a driver that tried to dial 169.254.169.254 would be stopped by Deno's
 * permissions (and would report a dial error, not the policy's refusal that is asserted here).
 */
import assert from "node:assert/strict";
import { Cluster } from "../support/cluster.ts";
import type { Json } from "../support/api_json.ts";

const SECRET = "e2e-fleet-key-0123456789-abcdefghijklmnop";

Deno.test({
  name: "a test aimed at 169.254.169.254 is refused and reported per driver; a fenced driver " +
    "sends nothing to a target outside its allow-list",
  // kafkajs in the processes is not ours to sanitise; every process is killed in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const cluster = await Cluster.create("aim");
    cluster.env.SURGE_FLEET_KEY = SECRET;
    const hosts = new Set(["127.0.0.1", ...cluster.brokers.map((b) => b.replace(/:\d+$/, ""))]);
    const driver = (id: string, extra: string[]) =>
      cluster.group.spawnDeno(id, [
        "run",
        `--allow-net=${[...hosts].join(",")}`,
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        "driver/main.ts",
        id,
        "--workers",
        "1",
        ...extra,
      ], cluster.env);
    const result = (test: Json, id: string) => {
      const d = test.drivers[id];
      return { status: d.status, requests: d.requests, error: d.error };
    };
    try {
      await cluster.startOrchestrator();
      const open = driver("open", []);
      const fenced = driver("fenced", ["--allow-target", "10.0.0.0/8"]);
      await cluster.idle(["open", "fenced"]);
      const test = {
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: 50,
        connections: 2,
        timeout_ms: 1000,
      };

      const metadata = await cluster.settled(
        await cluster.run({ ...test, target_url: "http://169.254.169.254/latest/meta-data/" }),
      );
      assert.equal(metadata.state, "finished");
      const why =
        "refused: target not allowed: 169.254.169.254 is in 169.254.0.0/16: link-local, " +
        "where clouds serve instance metadata and credentials";
      for (const id of ["open", "fenced"]) {
        assert.deepEqual(result(metadata, id), { status: "final", requests: 0, error: why }, id);
      }
      assert.equal(metadata.overall.requests, 0);
      await open.waitForOutput(/WARN .*test refused: target not allowed/);

      const local = await cluster.settled(
        await cluster.run({ ...test, target_url: cluster.targetUrl }),
      );
      const port = new URL(cluster.targetUrl).port;
      assert.deepEqual(result(local, "open"), { status: "final", requests: 50, error: null });
      assert.deepEqual(result(local, "fenced"), {
        status: "final",
        requests: 0,
        error:
          `refused: target not allowed: 127.0.0.1:${port} is not in the allow-list (10.0.0.0/8)`,
      });
      // The target's own count: the open driver's 50, nothing from the fenced one.
      assert.equal(cluster.counters.requestsReceived, 50);
      await fenced.waitForOutput(/WARN .*test refused: target not allowed/);
      for (const child of [open, fenced]) assert.doesNotMatch(child.output(), /refused a /);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${cluster.tails(30)}`, { cause: err });
    } finally {
      await cluster.close();
    }
  },
});
