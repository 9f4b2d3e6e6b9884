/** `deno task driver --local` as a user runs it: a real subprocess against the real target. */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { taskCommand } from "../../up/plan.ts";
import { serveTarget } from "./servers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

async function driver(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // deno.json's own command line and permissions, from the repository root as `deno task` runs.
  const out = await new Deno.Command(Deno.execPath(), {
    args: taskCommand(denoJson.tasks, "driver", Deno.execPath(), args).args,
    cwd: ROOT,
    stdin: "null",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("--local --count 5000 --json prints one line with exactly 5000 responses", async () => {
  const target = serveTarget();
  try {
    const started = performance.now();
    const { code, stdout, stderr } = await driver([
      "--local",
      `${target.url}/ping`,
      "--count",
      "5000",
      "--connections",
      "20",
      "--json",
    ]);
    const wallS = (performance.now() - started) / 1000;
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 1, stdout);
    const summary = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(summary), [
      "offered",
      "requests",
      "responses",
      "errors",
      "dropped",
      "queued",
      "unfinished",
      "error_kinds",
      "status_codes",
      "late",
      "duration_s",
      "rps",
      "latency_ms",
      "latency_ok_ms",
      "lag_ms",
      "warnings",
    ]);
    assert.equal(summary.offered, 5000);
    assert.equal(summary.dropped, 0);
    assert.equal(summary.requests, 5000);
    assert.equal(summary.responses, 5000);
    assert.equal(summary.errors, 0);
    assert.deepEqual(summary.status_codes, { "200": 5000 });
    // The test ran inside the process's lifetime, so its duration is shorter than the wall time
    // measured around the process, and its rate higher than 5,000 over that wall time.
    assert.ok(summary.duration_s > 0 && summary.duration_s < wallS, `${summary.duration_s}`);
    assert.ok(summary.rps >= Math.floor(5000 / wallS), `${summary.rps} vs wall ${wallS}s`);
    const l = summary.latency_ms;
    assert.ok(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, stdout);
    const metrics = await (await fetch(`${target.url}/metrics`)).json();
    assert.equal(metrics.requests_received, 5000);
    assert.equal(metrics.responses_sent, 5000);
  } finally {
    await target.close();
  }
});

Deno.test("--local tsunami prints a human summary with late requests", async () => {
  const target = serveTarget();
  try {
    const { code, stdout, stderr } = await driver([
      "--local",
      `${target.url}/ping`,
      "--type",
      "tsunami",
      "--delay",
      "5",
      "--count",
      "40",
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^40 requests, 40 responses, 0 errors in /);
    assert.match(stdout, /offered 40, dropped 0, queued \d+, late \d+; send lag ms p50 /);
    assert.match(stdout, /from scheduled time/);
  } finally {
    await target.close();
  }
});

Deno.test("bad flags exit with code 2 and name every problem", async () => {
  const { code, stderr } = await driver([
    "--local",
    "ftp://x",
    "--type",
    "tsunami",
    "--connections",
    "0",
  ]);
  assert.equal(code, 2);
  assert.equal(
    stderr,
    [
      'driver: --local must be an absolute http:// or https:// URL, got "ftp://x"',
      "driver: --connections must be greater than 0, got 0",
      "driver: --delay must be > 0 ms for a TSUNAMI test",
      "Run with --help for usage.\n",
    ].join("\n"),
  );
});
