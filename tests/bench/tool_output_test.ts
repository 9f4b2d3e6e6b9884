import assert from "node:assert/strict";
import {
  autocannonRps,
  childCpuMs,
  surgeResult,
  wrkErrors,
  wrkRps,
} from "../../bench/tool_output.ts";

const WRK = `Running 5s test @ http://127.0.0.1:18080/ping
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.04ms    5.16ms  76.54ms   98.06%
    Req/Sec   153.27k    47.25k  186.11k    76.00%
  762279 requests in 5.01s, 86.51MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 10
Requests/sec: 152133.70
Transfer/sec:     17.27MB
`;

Deno.test("wrk output gives requests/s and its error counts", () => {
  assert.equal(wrkRps(WRK), 152133.7);
  assert.equal(wrkErrors(WRK), 16);
  assert.equal(wrkErrors("Requests/sec: 5\n"), 0);
  assert.throws(() => wrkRps("unable to connect to 127.0.0.1:1 Connection refused"), TypeError);
});

Deno.test("autocannon --json gives total requests over its duration", () => {
  const out = "Running 5s test\n" +
    JSON.stringify({ requests: { average: 86000, total: 430000 }, duration: 5.02 });
  assert.equal(autocannonRps(out), 430000 / 5.02);
  assert.throws(() => autocannonRps("no json here"), TypeError);
  assert.throws(() => autocannonRps('{"requests":{}}'), TypeError);
});

Deno.test("surge --json line is read from the last JSON line", () => {
  const line = JSON.stringify({
    requests: 10,
    responses: 10,
    errors: 0,
    late: 0,
    duration_s: 1,
    rps: 10,
    latency_ms: { p50: 1, p99: 2, max: 3 },
  });
  assert.equal(surgeResult(`Task driver ...\n${line}\n`).rps, 10);
  assert.throws(() => surgeResult("{}"), TypeError);
  assert.throws(() => surgeResult("nothing"), TypeError);
});

Deno.test("a shell's times line gives its children's user + system CPU", () => {
  const table: [string, string, number][] = [
    ["dash", "tool output\n0m0.004000s 0m0.001000s\n0m1.250000s 0m0.500000s\n", 1750],
    ["bash", "0m0.001s 0m0.000s\n1m2.500s 0m0.250s", 62_750],
    ["an idle child", "0m0.000s 0m0.000s\n0m0.000s 0m0.000s", 0],
  ];
  for (const [name, output, ms] of table) assert.equal(childCpuMs(output), ms, name);
  assert.throws(() => childCpuMs("h2load: connection refused"), TypeError);
});
