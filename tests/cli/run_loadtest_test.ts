import assert from "node:assert/strict";
import type { ApiClient } from "../../cli/api_client.ts";
import { parseCliArgs } from "../../cli/config.ts";
import { runTest } from "../../cli/run_loadtest.ts";
import type { Driver, TestView } from "../../shared/api.ts";
import { ApiError } from "../../shared/api_error.ts";
import { driver, stats, testView } from "./fixtures.ts";

/** A fake API whose test runs for `pollsToFinish` polls; records every call. */
function fakeApi(
  pollsToFinish: number,
  opts: { triggerFails?: boolean; drivers?: Driver[] } = {},
) {
  const calls: string[] = [];
  let state: TestView["state"] = "created";
  let polls = 0;
  const view = (): TestView =>
    testView({
      test_id: "t-9",
      state,
      settled: state !== "created" && state !== "running",
      overall: stats({ responses: polls * 100, errors: 0 }),
    });
  const api: ApiClient = {
    baseUrl: "http://fake",
    drivers: () => Promise.resolve(opts.drivers ?? [driver(), driver({ node_id: "two" })]),
    createTest: (params) => {
      calls.push(`create ${params.test_type}`);
      return Promise.resolve(view());
    },
    trigger: () => {
      calls.push("trigger");
      if (opts.triggerFails) return Promise.reject(new ApiError(409, "no driver is alive"));
      state = "running";
      return Promise.resolve(view());
    },
    stop: () => {
      calls.push("stop");
      if (state !== "created" && state !== "running") {
        return Promise.reject(new ApiError(409, "it is finished"));
      }
      state = "stopped";
      return Promise.resolve(view());
    },
    getTest: () => {
      polls++;
      if (state === "running" && polls >= pollsToFinish) state = "finished";
      return Promise.resolve(view());
    },
    listTests: () => Promise.resolve([]),
    deleteTest: () => Promise.reject(new Error("unused")),
    report: () => Promise.reject(new Error("unused")),
    reportCsv: () => Promise.reject(new Error("unused")),
    end: () => Promise.reject(new Error("unused")),
    shutdown: () => Promise.reject(new Error("unused")),
    health: () => Promise.reject(new Error("unused")),
  };
  return { api, calls };
}

const params = () => {
  const cmd = parseCliArgs({}, ["--target", "http://127.0.0.1:8080/ping", "--count", "500"]);
  if (!("kind" in cmd) || cmd.kind !== "run") throw new Error("expected a run command");
  return cmd.params;
};

Deno.test("runTest() creates, triggers and follows the test until it is settled", async () => {
  const { api, calls } = fakeApi(3);
  const lines: string[] = [];
  const outcome = await runTest(params(), { api, onProgress: (l) => lines.push(l), pollMs: 1 });
  assert.deepEqual(calls, ["create AVALANCHE", "trigger"]);
  assert.equal(outcome.view.state, "finished");
  assert.equal(outcome.interrupted, false);
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /running .*100\/1,000/);
  assert.match(lines[2]!, /finished .*300\/1,000 .*drivers 2\/2 alive/);
});

Deno.test("runTest() stops the test itself when interrupted, then waits for its result", async () => {
  const { api, calls } = fakeApi(1_000_000);
  const controller = new AbortController();
  const lines: string[] = [];
  const notes: string[] = [];
  const outcome = await runTest(params(), {
    api,
    pollMs: 1,
    signal: controller.signal,
    onProgress: (l) => {
      lines.push(l);
      if (lines.length === 2) controller.abort();
    },
    onNote: (n) => notes.push(n),
  });
  assert.deepEqual(calls, ["create AVALANCHE", "trigger", "stop"]);
  assert.equal(outcome.interrupted, true);
  assert.equal(outcome.view.state, "stopped");
  assert.ok(notes.some((n) => /interrupted: stopping test t-9/.test(n)), notes.join("\n"));
});

Deno.test("runTest() stops a created test whose trigger fails, and reports the failure", async () => {
  const { api, calls } = fakeApi(1, { triggerFails: true });
  await assert.rejects(
    runTest(params(), { api, onProgress: () => {}, pollMs: 1 }),
    /no driver is alive/,
  );
  assert.deepEqual(calls, ["create AVALANCHE", "trigger", "stop"]);
});

Deno.test("runTest() says which drivers it is about to run on before it creates the test", async () => {
  const { api, calls } = fakeApi(1);
  const notes: string[] = [];
  const order: string[] = [];
  const create = api.createTest;
  api.createTest = (p) => {
    order.push("create");
    return create(p);
  };
  await runTest(params(), {
    api,
    onProgress: () => {},
    onNote: (line) => {
      notes.push(line);
      order.push("note");
    },
    pollMs: 1,
  });
  assert.equal(notes[0], "about to run on 2 drivers: one (127.0.0.1), two (127.0.0.1)");
  assert.deepEqual(order.slice(0, 2), ["note", "create"]);
  assert.deepEqual(calls, ["create AVALANCHE", "trigger"]);
  assert.match(notes.find((n) => n.startsWith("triggered")) ?? "", /on \d+ drivers?: /);
});

Deno.test("runTest() creates nothing when no driver is alive, or a named one is not", async () => {
  const cases: [string, Driver[], string[], RegExp][] = [
    ["nobody alive", [driver({ status: "left" })], [], /^no driver is alive: .*one left/],
    ["a named driver lost", [driver(), driver({ node_id: "two", status: "lost" })], [
      "--drivers",
      "one,two",
    ], /^these drivers are not alive: two \(lost\)$/],
  ];
  for (const [what, drivers, extra, message] of cases) {
    const { api, calls } = fakeApi(1, { drivers });
    const cmd = parseCliArgs({}, ["--target", "http://127.0.0.1:8080/ping", ...extra]);
    if (!("kind" in cmd) || cmd.kind !== "run") throw new Error("expected a run command");
    await assert.rejects(
      runTest(cmd.params, { api, onProgress: () => {}, pollMs: 1 }),
      { name: "NoDriversError", message },
      what,
    );
    assert.deepEqual(calls, [], `${what}: nothing created`);
  }
});
