/**
 * The address a real driver process registers, read back from a real orchestrator's
 * `GET /api/drivers` on real Kafka: `--advertise-ip` as given (in canonical form), and without
 * it the local address of the route to the first broker — 127.0.0.1 for the test run's loopback
 * broker. That driver runs with its task's own grants (deno.json), so the grant covers the probe.
 * A bad value is a usage error before anything is dialled.
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { taskCommand } from "../../up/plan.ts";
import type { Json } from "../support/api_json.ts";
import { Cluster } from "../support/cluster.ts";
import { eventually, ProcessGroup } from "../support/processes.ts";

Deno.test({
  name: "drivers register --advertise-ip, SURGE_ADVERTISE_IP, or the address routing to the broker",
  // kafkajs in the subprocesses only; the sanitizers watch this process's own ops.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = await Cluster.create("advertise");
    try {
      if (!cluster.brokers[0]!.startsWith("127.0.0.1:")) {
        throw new Error(`this test needs a loopback broker, got ${cluster.brokers[0]}`);
      }
      await cluster.startOrchestrator();
      // Only an address in a message: nothing is ever sent to 198.18.0.77.
      cluster.group.spawnDeno("flagged", [
        "run",
        "-A",
        "driver/main.ts",
        "flagged",
        "--workers",
        "1",
        "--advertise-ip",
        "198.18.0.77",
      ], cluster.env);
      cluster.driver("env", { env: { SURGE_ADVERTISE_IP: "FD00:0::77" } });
      const auto = cluster.group.spawnDeno("auto", [
        ...taskCommand(denoJson.tasks, "driver", Deno.execPath()).args,
        "auto",
        "--workers",
        "1",
      ], cluster.env);
      const want: Record<string, string> = {
        flagged: "198.18.0.77",
        env: "fd00::77",
        auto: "127.0.0.1",
      };
      const seen = await eventually("the three drivers registered", async () => {
        const { drivers } = await cluster.api("GET", "/api/drivers");
        const ips = Object.fromEntries(
          (drivers as Json[]).filter((d) => d.status === "alive" && d.node_ip !== null)
            .map((d) => [d.node_id, d.node_ip]),
        );
        return Object.keys(want).every((id) => id in ips) ? ips : undefined;
      }, 60_000).catch((err) => {
        throw new Error(`${(err as Error).message}\n${cluster.tails()}`);
      });
      assert.deepEqual(seen, want);
      // The driver says in its start-up line where the address came from.
      assert.match(auto.output(), /driver node running.*node_ip.*127\.0\.0\.1.*route/);
      assert.doesNotMatch(auto.output(), /no route to the brokers found/);
    } finally {
      await cluster.close();
    }
  },
});

Deno.test("a bad --advertise-ip or SURGE_ADVERTISE_IP exits 2 with a usage error", async () => {
  const group = new ProcessGroup();
  try {
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      [
        "flag",
        ["--advertise-ip", "198.18.0.999"],
        {},
        /driver: --advertise-ip must be an IPv4 or IPv6 address .*got "198\.18\.0\.999"/,
      ],
      [
        "env",
        [],
        { SURGE_ADVERTISE_IP: "driver.example" },
        /driver: SURGE_ADVERTISE_IP must be an IPv4 or IPv6 address .*got "driver\.example"/,
      ],
    ];
    for (const [what, args, env, message] of cases) {
      // KAFKA_BROKERS points nowhere: a usage error must come before any connection.
      const child = group.spawnDeno(what, ["run", "-A", "driver/main.ts", "one", ...args], {
        KAFKA_BROKERS: "127.0.0.1:1",
        ...env,
      });
      const status = await child.status;
      assert.equal(status.code, 2, `${what}: ${child.output()}`);
      assert.match(child.output(), message, what);
      assert.match(child.output(), /Run with --help for usage\./, what);
    }
  } finally {
    await group.stopAll();
  }
});
