/**
 * Secrets stay secret, end to end (README "Security", "Secrets"): a test sent with
 * `Authorization: Bearer s3cret` and a header marked secret runs on a real orchestrator and driver
 * on real Kafka, and the target receives the real values with every request, while no output shows
 * them: the API, the JSON, CSV and HTML reports, the dashboard, `loadtest` (run as its deno.json
 * task) and both processes' logs, at debug level.
 */
import assert from "node:assert/strict";
import { AUTH, TEST_API_TOKEN } from "../support/api_json.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { taskCommand } from "../../up/plan.ts";
import { Cluster } from "../support/cluster.ts";

const SECRETS = ["s3cret", "tok3n"];
const BODY = "password=hunter2";

/** What the target saw of each request. */
interface Seen {
  authorization: string | null;
  token: string | null;
  body: string;
}

/** Fails naming `where` when `text` shows a secret header value, or the body when `body`. */
function assertNoSecret(where: string, text: string, body = false): void {
  for (const secret of body ? [...SECRETS, "hunter2"] : SECRETS) {
    const at = text.indexOf(secret);
    assert.equal(at, -1, `${where} shows "${secret}": …${text.slice(at - 200, at + 200)}…`);
  }
}

Deno.test({
  name: "an Authorization header reaches the target and shows as *** in every output",
  // kafkajs inside the children is not ours to sanitize; this test only spawns and fetches.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const seen: Seen[] = [];
    const target = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const { headers } = req;
        seen.push({
          authorization: headers.get("authorization"),
          token: headers.get("x-my-token"),
          body: await req.text(),
        });
        return new Response("ok");
      },
    );
    const cluster = await Cluster.create("secrets");
    // Everything either process can log, kafkajs's lines included.
    cluster.env.LOG_LEVEL = "debug";
    try {
      const orchestrator = await cluster.startOrchestrator();
      const driver = cluster.driver("one");
      await cluster.idle(["one"]);
      const id = await cluster.run({
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: 20,
        target_url: `http://127.0.0.1:${target.addr.port}/login`,
        connections: 2,
        method: "POST",
        headers: { Authorization: "Bearer s3cret", "X-My-Token": "tok3n", Accept: "text/plain" },
        secret_headers: ["x-my-token"],
        body: BODY,
      });
      const view = await cluster.settled(id);
      assert.equal(view.overall.responses, 20);
      assert.equal(seen.length, 20, "the target's own count");
      for (const request of seen) {
        assert.deepEqual(request, { authorization: "Bearer s3cret", token: "tok3n", body: BODY });
      }

      const base = cluster.base;
      const get = async (path: string) =>
        await (await fetch(`${base}${path}`, { headers: AUTH })).text();
      const api = {
        "GET /api/tests": await get("/api/tests"),
        "GET /api/tests/{id}": await get(`/api/tests/${id}`),
        "the JSON report": await get(`/api/tests/${id}/report?format=json`),
        "the CSV report": await get(`/api/tests/${id}/report?format=csv`),
      };
      for (const [where, text] of Object.entries(api)) assertNoSecret(where, text);
      const config = JSON.parse(api["GET /api/tests/{id}"]).config;
      assert.deepEqual(config.headers, {
        Authorization: "***",
        "X-My-Token": "***",
        Accept: "text/plain",
      });
      assert.equal(config.body, BODY, "API callers hold the token: they see the body");
      assertNoSecret("the HTML report", await get(`/reports/${id}.html`), true);
      assertNoSecret("the dashboard", await get(`/dashboard/snapshot?test=${id}`), true);

      const loadtest = async (args: string[]) => {
        const command = taskCommand(denoJson.tasks, "loadtest", Deno.execPath(), args);
        const child = cluster.group.spawnDeno(`loadtest ${args[0]}`, command.args, {
          SURGE_API_TOKEN: TEST_API_TOKEN,
        });
        const { code } = await child.status;
        assert.equal(code, 0, child.output());
        return child.output();
      };
      const orch = ["--orchestrator", base];
      for (const args of [["show", id], ["show", id, "--json"], ["list"], ["list", "--json"]]) {
        assertNoSecret(`loadtest ${args.join(" ")}`, await loadtest([...args, ...orch]));
      }
      assert.match(await loadtest(["show", id, "--json", ...orch]), /"Authorization":"\*\*\*"/);
      for (const format of ["json", "csv", "html"]) {
        const out = await loadtest(["report", id, "--format", format, ...orch]);
        assertNoSecret(`loadtest report --format ${format}`, out, format === "html");
      }

      await cluster.api("POST", "/api/end");
      await driver.status;
      const logs = { orchestrator: orchestrator.output(), driver: driver.output() };
      assert.match(logs.driver, new RegExp(`test configured.*test_id=${id}`), "its log was read");
      assert.match(logs.orchestrator, new RegExp(`test created.*test_id=${id}`));
      for (const [name, text] of Object.entries(logs)) {
        assertNoSecret(`the ${name}'s log`, text, true);
      }
    } finally {
      await cluster.close();
      await target.shutdown();
    }
  },
});
