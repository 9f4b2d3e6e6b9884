/**
 * `deno task loadtest` against a real cluster (real Kafka, orchestrator, two drivers and the
 * target, started by `up`): exit codes of thresholds, `--json`, the subcommands, bad usage, and
 * the API token, found in the orchestrator's data dir (SURGE_DATA_DIR) or SURGE_API_TOKEN.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../../shared/async.ts";
import { killQuietly } from "../../shared/process.ts";
import { startCluster } from "../up/cluster.ts";

const root = new URL("../..", import.meta.url).pathname;

async function runLoadtest(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/main.ts", ...args],
    cwd: root,
    env: { NO_COLOR: "1", SURGE_API_TOKEN: "", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "loadtest runs tests on a real cluster: thresholds set the exit code, --json parses",
  // The cluster's subprocesses are stopped in the finally; nothing of kafkajs runs in here.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const cluster = await startCluster(2);
    const o = ["--orchestrator", cluster.base];
    // As on the orchestrator's machine: the token is read from its data dir.
    const loadtest = (args: string[]) => runLoadtest(args, { SURGE_DATA_DIR: cluster.dataDir });
    try {
      await t.step("without the token: 401, and where to find one (exit 3)", async () => {
        const none = await runLoadtest([...o, "list"], { SURGE_DATA_DIR: "/nonexistent" });
        assert.equal(none.code, 3);
        assert.match(
          none.stderr,
          /GET \/api\/tests failed \(401\): API token required: .* No API token was found here: set SURGE_API_TOKEN, or SURGE_DATA_DIR/,
        );
        const wrong = await runLoadtest([...o, "list"], {
          SURGE_API_TOKEN: "wrong-token-0123456789",
          SURGE_DATA_DIR: cluster.dataDir,
        });
        assert.equal(wrong.code, 3);
        assert.match(wrong.stderr, /failed \(401\): Wrong API token\n/);
        // SURGE_API_TOKEN is enough on its own, and wins over the data dir's file.
        const env = await runLoadtest([...o, "list"], {
          SURGE_API_TOKEN: cluster.token,
          SURGE_DATA_DIR: "/nonexistent",
        });
        assert.equal(env.code, 0, env.stderr);
      });

      await t.step("thresholds that hold: exit 0 and a summary that says so", async () => {
        const r = await loadtest([...o, "--target", cluster.target, "--count", "400"].concat(
          [
            "--threshold",
            "p99<5s",
            "--threshold",
            "error_rate<1%",
            "--threshold",
            "responses>=800",
          ],
        ));
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /Test \S+: finished/);
        assert.match(r.stdout, /^overall +800 +800 +800 +0 +0 /m);
        assert.match(r.stdout, /^one +400 +400 /m);
        assert.match(r.stdout, /^two +400 +400 /m);
        assert.match(r.stdout, /Thresholds: 3 passed, 0 failed/);
        assert.match(r.stderr, /\[ +\d+\.\ds\] +\w+ +\d[\d,]*\/800 /, "progress lines");
        assert.match(r.stderr, /drivers 2\/2 alive/);
      });

      await t.step("a threshold that fails: exit 1, the summary names it", async () => {
        const r = await loadtest([...o, "--target", cluster.target, "--count", "200"].concat(
          ["--threshold", "p99<5s", "--threshold", "rps>100000000"],
        ));
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /Thresholds: 1 passed, 1 failed/);
        assert.match(r.stdout, /FAIL {2}rps>100000000/);
      });

      await t.step("error_rate counts HTTP 503s from the target", async () => {
        const r = await loadtest([...o, "--target", `${cluster.target}?status=503`].concat(
          ["--count", "100", "--threshold", "error_rate<1%"],
        ));
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /FAIL {2}error_rate<1% +actual 100\.00%/);
        assert.match(r.stdout, /503:200/);
      });

      let testId = "";
      await t.step("--json prints the final test resource as one JSON line", async () => {
        const r = await loadtest([...o, "--target", cluster.target].concat(
          ["--type", "tsunami", "--delay", "2", "--count", "100", "--json"],
        ));
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.equal(lines.length, 1);
        const view = JSON.parse(lines[0]!);
        assert.equal(view.state, "finished");
        assert.equal(view.config.test_type, "TSUNAMI");
        assert.equal(view.overall.responses, 200);
        assert.deepEqual(Object.keys(view.drivers).sort(), ["one", "two"]);
        testId = view.test_id;
      });

      await t.step("list, show, report (json, csv, html), stop and delete", async () => {
        const list = await loadtest([...o, "list"]);
        assert.equal(list.code, 0);
        assert.ok(list.stdout.includes(testId));
        assert.equal(list.stdout.trim().split("\n").length, 1 + 4, list.stdout);
        const show = await loadtest([...o, "show", testId]);
        assert.match(show.stdout, new RegExp(`Test ${testId}: finished`));
        const json = JSON.parse((await loadtest([...o, "report", testId])).stdout);
        assert.equal(json.test.test_id, testId);
        assert.ok(json.timeseries.overall.length >= 1);
        const csv = await loadtest([...o, "report", testId, "--format", "csv"]);
        assert.match(csv.stdout.split("\n")[0]!, /^test_id,scope,state/);
        const file = await Deno.makeTempFile({ suffix: ".html" });
        try {
          const html = await loadtest([...o, "report", testId, "--format", "html", "--out", file]);
          assert.equal(html.code, 0, html.stderr);
          const text = await Deno.readTextFile(file);
          assert.match(text, /^<!doctype html>/);
          assert.ok(text.includes(`"test_id":"${testId}"`));
        } finally {
          await Deno.remove(file);
        }
        const stop = await loadtest([...o, "stop", testId]);
        assert.equal(stop.code, 3);
        assert.match(stop.stderr, /409.*finished/);
        const missing = await loadtest([...o, "show", "no-such-test"]);
        assert.equal(missing.code, 3);
        assert.match(missing.stderr, /404/);
        const deleted = await loadtest([...o, "delete", testId]);
        assert.equal(deleted.code, 0, deleted.stderr);
        assert.equal(deleted.stdout, `Deleted test ${testId}.\n`);
        const gone = await loadtest([...o, "show", testId]);
        assert.equal(gone.code, 3);
        assert.match(gone.stderr, /404/);
      });

      await t.step("Ctrl-C stops the test on the cluster, not just the client", async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "cli/main.ts", ...o, "--target", cluster.target].concat(
            ["--type", "tsunami", "--delay", "10", "--count", "100000", "--json"],
          ),
          cwd: root,
          env: { SURGE_API_TOKEN: cluster.token },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        let stderr = "";
        const reading = (async () => {
          for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
            stderr += chunk;
          }
        })();
        const stdout = new Response(child.stdout).text();
        try {
          await pollUntil(() => /running +[1-9][\d,]*\/200,000/.test(stderr), {
            what: "a progress line with responses",
            timeoutMs: 30_000,
          });
          child.kill("SIGINT");
          const status = await child.status;
          await reading;
          assert.equal(status.code, 1, stderr);
          assert.match(stderr, /interrupted: stopping test/);
          const view = JSON.parse(await stdout);
          assert.equal(view.state, "stopped");
          assert.equal(view.settled, true);
          assert.ok(view.overall.responses > 0 && view.overall.responses < 200_000);
          const fresh = await (await fetch(`${cluster.base}/api/tests/${view.test_id}`, {
            headers: { authorization: `Bearer ${cluster.token}` },
          })).json();
          assert.equal(fresh.state, "stopped");
        } finally {
          killQuietly(child, "SIGKILL");
        }
      });

      await t.step("bad usage is a clear error (exit 2) and starts no test", async () => {
        const before = (await loadtest([...o, "list", "--json"])).stdout;
        const bad = await loadtest([...o, "--target", cluster.target, "--bogus"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /Unknown option '--bogus'/);
        const threshold = await loadtest([
          ...o,
          "--target",
          cluster.target,
          "--threshold",
          "p99<<1",
        ]);
        assert.equal(threshold.code, 2);
        assert.match(threshold.stderr, /Cannot parse threshold "p99<<1"/);
        const after = (await loadtest([...o, "list", "--json"])).stdout;
        assert.equal(JSON.parse(after).tests.length, JSON.parse(before).tests.length);
      });
    } finally {
      await cluster.stop();
    }
  },
});

Deno.test("loadtest says clearly when the orchestrator cannot be reached (exit 3)", async () => {
  const r = await runLoadtest(["--orchestrator", "http://127.0.0.1:9", "list"]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /Cannot reach the orchestrator at http:\/\/127\.0\.0\.1:9/);
});
