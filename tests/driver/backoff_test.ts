/**
 * The reconnect backoff and the worker's dial gate: the pure pause rule, and the engine obeying
 * both in both models against a dialler that refuses (counted in-process, so every dial is seen):
 * one dial per pause for the whole worker, while every request still ends in exactly one outcome.
 */
import assert from "node:assert/strict";
import { BACKOFF_FIRST_MS, BACKOFF_MAX_MS, connectBackoffMs } from "../../driver/backoff.ts";
import { type Dial, dialerFor } from "../../driver/dial.ts";
import { Engine } from "../../driver/engine.ts";
import { buildRequest } from "../../driver/http1_request.ts";
import { slotsBefore } from "../../driver/pacer.ts";
import { Recorder } from "../../driver/recorder.ts";
import { dialsWithin } from "../support/backoff.ts";
import { serveTarget } from "./servers.ts";

Deno.test("connectBackoffMs() doubles from 10 ms per consecutive failure up to 1 s", () => {
  const table: [string, number, number][] = [
    ["no failure yet", 0, 0],
    ["a negative count", -3, 0],
    ["NaN", NaN, 0],
    ["the first failure", 1, BACKOFF_FIRST_MS],
    ["the second", 2, 20],
    ["the third", 3, 40],
    ["the seventh", 7, 640],
    ["the eighth reaches the cap", 8, BACKOFF_MAX_MS],
    ["a long outage stays at the cap", 1_000, BACKOFF_MAX_MS],
    ["a count past 2^53 does not overflow", Number.MAX_VALUE, BACKOFF_MAX_MS],
  ];
  for (const [name, failures, ms] of table) assert.equal(connectBackoffMs(failures), ms, name);
  // 0, 10, 30, 70, 150, 310, 630, 1270, 2270, 3270, 4270: 11 dials in 5 s instead of 500.
  assert.equal(dialsWithin(5_000), 11);
});

/** A dialler that refuses every connect at once, like a closed port, and counts the dials. */
function refusing(): { dial: Dial; dials: () => number } {
  let dials = 0;
  return {
    dial: () => {
      dials++;
      return Promise.reject(new Deno.errors.ConnectionRefused("Connection refused (os error 111)"));
    },
    dials: () => dials,
  };
}

function engineFor(dial: Dial, connections: number, paced: boolean) {
  const rec = new Recorder(paced);
  const engine = new Engine({
    dial,
    request: buildRequest({ method: "GET", url: "http://127.0.0.1:9/" }),
    head: false,
    timeoutMs: 2_000,
    connections,
    count: Infinity,
  }, rec);
  return { engine, rec };
}

Deno.test("closed model, refused target: one dial per pause for the worker, each connection's requests by its backoff", async () => {
  const { dial, dials } = refusing();
  const { engine, rec } = engineFor(dial, 20, false);
  const warmedAt = performance.now();
  await engine.warm();
  assert.equal(dials(), 1, "the first warm-up dial was refused: the others did not dial");
  const startMs = performance.now();
  const endMs = startMs + 1_500;
  await engine.run({ timetable: { startMs, intervalMs: 0, offset: 0, stride: 1 }, endMs });
  const s = rec.snapshot(true);
  // The gate dials at the warm-up and once after each pause of the rule: at most 8 times in the
  // 1.5 s from the warm-up to the end (0, 10, 30, … 1270 ms), where every connection dialling by
  // its own backoff made 20 × 8 = 160.
  const maxDials = dialsWithin(endMs - warmedAt);
  assert.ok(dials() <= maxDials, `${dials()} dials > ${maxDials}`);
  // Each connection still makes a request at each step of its own backoff, not dialled but
  // failed at once with the gate's error: at most 20 × 8, and at least one each.
  assert.ok(s.requests <= 20 * dialsWithin(1_500), `${s.requests} requests`);
  assert.ok(s.requests >= 20, "every connection tried");
  assert.equal(s.errors, s.requests);
  assert.deepEqual(s.errorKinds, { connect_refused: s.requests });
});

Deno.test("closed model: a stop wakes the connections resting after a refused connect", async () => {
  const { dial } = refusing();
  const { engine } = engineFor(dial, 4, false);
  const startMs = performance.now();
  const run = engine.run({
    timetable: { startMs, intervalMs: 0, offset: 0, stride: 1 },
    endMs: Infinity,
  });
  // By 1.5 s every connection rests 1 s at a time; the stop must not wait for the rest to end.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const stoppedAt = performance.now();
  engine.stop();
  await run;
  const waited = performance.now() - stoppedAt;
  assert.ok(waited < BACKOFF_MAX_MS, `the run ended ${waited.toFixed(0)} ms after the stop`);
});

Deno.test("paced model, refused target: slots fail at once, undialled, but for one probe per pause", async () => {
  const { dial, dials } = refusing();
  const { engine, rec } = engineFor(dial, 4, true);
  const warmedAt = performance.now();
  await engine.warm();
  const timetable = { startMs: performance.now(), intervalMs: 1, offset: 0, stride: 1 };
  const endMs = timetable.startMs + 1_500;
  await engine.run({ timetable, endMs });
  const s = rec.snapshot(true);
  const offered = slotsBefore(timetable, endMs);
  assert.equal(s.requests + s.dropped, offered, "offered = requests + dropped");
  assert.equal(s.errors, s.requests, "every slot sent ended in one error");
  assert.deepEqual(s.errorKinds, { connect_refused: s.requests });
  // 1,500 slots at 1,000/s, yet at most 8 dials for the worker (warm-up, then one per pause).
  const maxDials = dialsWithin(endMs - warmedAt);
  assert.ok(dials() <= maxDials, `${dials()} dials > ${maxDials} for ${s.requests} requests`);
  assert.ok(s.requests > dials(), `${dials()} dials for ${s.requests} requests`);
});

Deno.test("paced model: while the gate is shut, the connection that works takes the slots", async () => {
  const target = serveTarget();
  try {
    // The target takes one connection and refuses the others, as one at its connection limit.
    const real = dialerFor(new URL(target.url));
    let dials = 0;
    const dial: Dial = (signal) =>
      ++dials === 1
        ? real(signal)
        : Promise.reject(new Deno.errors.ConnectionRefused("Connection refused (os error 111)"));
    const { engine, rec } = engineFor(dial, 4, true);
    await engine.warm();
    const timetable = { startMs: performance.now(), intervalMs: 20, offset: 0, stride: 1 };
    const endMs = timetable.startMs + 600;
    await engine.run({ timetable, endMs });
    const s = rec.snapshot(true);
    // The first slots go to the 3 connections that were refused and fail; once the working
    // one has answered it is free for every later slot (a local answer takes far less than the
    // 20 ms between slots), so no slot meets a refused connection again, but when a stall of
    // this machine made it late and found the working one still busy.
    assert.ok(s.errors <= 3 + s.late, `${s.errors} errors, ${s.late} late`);
    assert.deepEqual(s.errorKinds, { connect_refused: s.errors });
    assert.equal(s.responses, s.requests - s.errors);
    assert.equal(s.requests + s.dropped, slotsBefore(timetable, endMs));
    assert.equal(target.counters.requestsReceived, s.responses);
  } finally {
    await target.close();
  }
});
