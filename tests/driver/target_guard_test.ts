/**
 * The guard between a test and the engine: the target is checked before anything is dialled, a
 * refused test ends with one final report saying why, and an allowed one dials the address that
 * was checked. Fake engine and resolver for the rules; the real engine for the pinning.
 */
import assert from "node:assert/strict";
import type { PoolReport, RunningTest } from "../../driver/pool.ts";
import { startTest } from "../../driver/pool.ts";
import { guardTargets, REFUSED, type StartTest } from "../../driver/target_guard.ts";
import {
  DEFAULT_POLICY,
  parseTargetPolicy,
  type TargetPolicy,
} from "../../driver/target_policy.ts";
import type { LoadSpec } from "../../driver/worker_protocol.ts";
import { serveTarget } from "./servers.ts";

const spec = (url: string, over: Partial<LoadSpec> = {}): LoadSpec => ({
  url,
  method: "GET",
  connections: 2,
  count: 10,
  durationMs: null,
  intervalMs: 0,
  timeoutMs: 1000,
  ...over,
});

/** An engine that must not be reached: it records the spec and finishes at once. */
function fakeEngine() {
  const started: LoadSpec[] = [];
  const start: StartTest = (s): RunningTest => {
    started.push(s);
    return { done: Promise.resolve({ final: true, requests: 10 } as PoolReport), stop: () => {} };
  };
  return { started, start };
}

const policyOf = (...entries: string[]): TargetPolicy => parseTargetPolicy(entries) as TargetPolicy;
const never = (host: string): Promise<string[]> => {
  throw new Error(`the resolver was asked for ${host}`);
};

Deno.test("a refused target dials nothing and ends with one final report saying why", async () => {
  // [url, policy, resolver answer, what the error says]
  const rows: [string, TargetPolicy, string[] | undefined, string][] = [
    ["http://169.254.169.254/", DEFAULT_POLICY, undefined, "169.254.169.254 is in 169.254.0.0/16"],
    ["http://[fd00:ec2::254]/latest", DEFAULT_POLICY, undefined, "AWS instance metadata"],
    ["http://[::ffff:169.254.169.254]/", DEFAULT_POLICY, undefined, "(169.254.169.254) is in"],
    ["http://2852039166/", DEFAULT_POLICY, undefined, "169.254.169.254 is in"], // URL spells it so
    ["http://metadata.example/", DEFAULT_POLICY, ["169.254.169.254"], "metadata.example (169."],
    ["http://127.0.0.1:8080/", policyOf("10.0.0.0/8"), undefined, "127.0.0.1:8080 is not in"],
    ["https://svc.example/", policyOf("10.0.0.0/8"), ["10.0.0.1", "192.0.2.1"], "is not in the"],
  ];
  for (const [url, policy, answer, want] of rows) {
    const engine = fakeEngine();
    const reports: PoolReport[] = [];
    const refusals: string[] = [];
    const start = guardTargets(engine.start, {
      policy,
      resolve: answer === undefined ? never : () => Promise.resolve(answer),
      onRefused: (reason) => refusals.push(reason),
    });
    const report = await start(spec(url), {
      workers: 1,
      reportMs: 500,
      onReport: (r) => reports.push(r),
    }).done;
    assert.deepEqual(engine.started, [], `${url}: the engine was started`);
    const error = report.error ?? "";
    assert.ok(error.startsWith(`${REFUSED}: `), `${url}: ${error}`);
    assert.ok(error.includes(want), `${url}: ${error}`);
    assert.deepEqual(reports, [report], "one report, the final one");
    assert.equal(report.final, true);
    assert.equal(report.requests + report.responses + report.errors + report.unfinished, 0);
    assert.deepEqual(refusals, [error.slice(REFUSED.length + 2)]);
  }
});

Deno.test("an allowed target starts the engine pinned to the address that was checked", async () => {
  const rows: [string, TargetPolicy, string[] | undefined, string][] = [
    ["http://127.0.0.1:8080/", DEFAULT_POLICY, undefined, "127.0.0.1"],
    ["http://[::1]:8080/", DEFAULT_POLICY, undefined, "::1"],
    ["http://svc.example/", DEFAULT_POLICY, ["10.0.0.7", "10.0.0.8"], "10.0.0.7"],
    ["https://svc.example/", policyOf("svc.example:443"), ["192.0.2.1"], "192.0.2.1"],
  ];
  for (const [url, policy, answer, address] of rows) {
    const engine = fakeEngine();
    const resolve = answer === undefined ? never : () => Promise.resolve(answer);
    const report = await guardTargets(engine.start, { policy, resolve })(spec(url), {
      workers: 1,
      reportMs: 500,
    }).done;
    assert.equal(report.requests, 10, url);
    assert.deepEqual(engine.started.map((s) => s.address), [address], url);
  }
});

Deno.test("a name that does not resolve in time is refused; a stop while checking sends nothing", async () => {
  const engine = fakeEngine();
  const failing = guardTargets(engine.start, {
    policy: DEFAULT_POLICY,
    resolve: () => Promise.reject(new Error("getaddrinfo ENOTFOUND nope.example")),
  });
  const nx = await failing(spec("http://nope.example/"), { workers: 1, reportMs: 500 }).done;
  assert.match(
    nx.error ?? "",
    /^refused: target not allowed: cannot resolve nope\.example .*NOTFOUND/,
  );

  const hanging = guardTargets(engine.start, {
    policy: DEFAULT_POLICY,
    resolve: () => new Promise(() => {}),
  });
  const slow = await hanging(spec("http://slow.example/", { timeoutMs: 50 }), {
    workers: 1,
    reportMs: 500,
  }).done;
  assert.match(slow.error ?? "", /cannot resolve slow\.example .*no answer in 50 ms/);

  let answer!: (addresses: string[]) => void;
  const held = guardTargets(engine.start, {
    policy: DEFAULT_POLICY,
    resolve: () => new Promise((resolve) => answer = resolve),
  });
  const test = held(spec("http://held.example/"), { workers: 1, reportMs: 500 });
  test.stop();
  answer(["127.0.0.1"]);
  const stopped = await test.done;
  assert.equal(stopped.error, undefined);
  assert.equal(stopped.requests, 0);
  assert.deepEqual(engine.started, []);
});

Deno.test("an engine that fails to start still ends the test with one report saying why", async () => {
  const reports: PoolReport[] = [];
  const start = guardTargets(() => {
    throw new Error("cannot spawn a worker");
  }, { policy: DEFAULT_POLICY, resolve: never });
  const report = await start(spec("http://127.0.0.1:9/"), {
    workers: 1,
    reportMs: 500,
    onReport: (r) => reports.push(r),
  }).done;
  assert.equal(report.error, "cannot start the test: cannot spawn a worker");
  assert.deepEqual(reports, [report]);
});

Deno.test("the real engine dials the checked address and never resolves the name itself", async () => {
  const target = serveTarget();
  try {
    const port = new URL(target.url).port;
    // `.invalid` never resolves (RFC 2606): had the engine looked it up, every request would fail.
    const start = guardTargets(startTest, {
      policy: DEFAULT_POLICY,
      resolve: () => Promise.resolve(["127.0.0.1"]),
    });
    const report = await start(spec(`http://pinned.invalid:${port}/ping`, { count: 20 }), {
      workers: 1,
      reportMs: 500,
    }).done;
    assert.equal(report.error, undefined);
    assert.equal(report.responses, 20);
    assert.deepEqual(report.statusCodes, { "200": 20 });
    assert.equal(target.counters.requestsReceived, 20);
  } finally {
    await target.close();
  }
});
