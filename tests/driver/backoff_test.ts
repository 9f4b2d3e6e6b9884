/**
 * The reconnect backoff: the pure pause rule, and the engine obeying it in both models against a
 * dialler that refuses (counted in-process, so every dial is seen), with each request still
 * ending in exactly one outcome.
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

Deno.test("closed model, refused target: each connection dials by the backoff, one outcome each", async () => {
  const { dial, dials } = refusing();
  const { engine, rec } = engineFor(dial, 20, false);
  const startMs = performance.now();
  await engine.run({
    timetable: { startMs, intervalMs: 0, offset: 0, stride: 1 },
    endMs: startMs + 1_500,
  });
  const s = rec.snapshot(true);
  // 20 connections × 8 dials in 1.5 s (0, 10, 30, … 1270 ms), plus at most one each for a timer
  // that fires a hair early at the window's edge; the old 10 ms spin allowed 20 × 150.
  assert.ok(dials() <= 20 * (dialsWithin(1_500) + 1), `${dials()} dials`);
  assert.ok(dials() >= 20, "every connection tried");
  assert.equal(s.requests, dials(), "every request dialled once (no warm-up here)");
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

Deno.test("paced model, refused target: slots on a resting connection fail without a dial", async () => {
  const { dial, dials } = refusing();
  const { engine, rec } = engineFor(dial, 4, true);
  const timetable = { startMs: performance.now(), intervalMs: 1, offset: 0, stride: 1 };
  const endMs = timetable.startMs + 1_500;
  await engine.run({ timetable, endMs });
  const s = rec.snapshot(true);
  const offered = slotsBefore(timetable, endMs);
  assert.equal(s.requests + s.dropped, offered, "offered = requests + dropped");
  assert.equal(s.errors, s.requests, "every slot sent ended in one error");
  assert.deepEqual(s.errorKinds, { connect_refused: s.requests });
  // 1,500 slots at 1,000/s, yet at most 4 × 9 dials: the rest failed at once, undialled.
  assert.ok(dials() <= 4 * dialsWithin(1_500), `${dials()} dials for ${s.requests} requests`);
  assert.ok(s.requests > dials(), `${dials()} dials for ${s.requests} requests`);
});

Deno.test("paced model: a working connection takes the slots, not one backing off", async () => {
  const target = serveTarget();
  try {
    const real = dialerFor(new URL(target.url));
    let dials = 0;
    const dial: Dial = (signal) =>
      ++dials === 1
        ? Promise.reject(new Deno.errors.ConnectionRefused("Connection refused (os error 111)"))
        : real(signal);
    const { engine, rec } = engineFor(dial, 4, true);
    const timetable = { startMs: performance.now(), intervalMs: 5, offset: 0, stride: 1 };
    const endMs = timetable.startMs + 500;
    await engine.run({ timetable, endMs });
    const s = rec.snapshot(true);
    // Slot 0's connection is refused and rests 10 ms; at most 2 more slots come due in that
    // time and 3 other connections are free for them, so only the one real refusal is an error.
    assert.equal(s.errors, 1, JSON.stringify(s.errorKinds));
    assert.equal(s.responses, s.requests - 1);
    assert.equal(s.requests + s.dropped, slotsBefore(timetable, endMs));
  } finally {
    await target.close();
  }
});
