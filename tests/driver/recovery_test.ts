/**
 * A target that refuses connections and then starts listening, for real: nothing listens on the
 * port for the first 1.2 s of a 3 s run, then a server does. The worker's dial gate must find it
 * with its next probe and let every connection dial at once, in both models.
 */
import assert from "node:assert/strict";
import { BACKOFF_MAX_MS } from "../../driver/backoff.ts";
import { dialerFor } from "../../driver/dial.ts";
import { Engine } from "../../driver/engine.ts";
import { buildRequest } from "../../driver/http1_request.ts";
import { slotsBefore } from "../../driver/pacer.ts";
import { Recorder } from "../../driver/recorder.ts";
import type { ErrorKind } from "../../driver/worker_protocol.ts";
import { freePort } from "../support/processes.ts";

const CONNECTIONS = 20;
const LISTEN_AFTER_MS = 1_200;
const RUN_MS = 3_000;
/** Room for this machine's stalls on top of what the rule allows (a busy 2-core machine). */
const SLACK_MS = 300;

/** A recorder that also keeps when the first response and the last error were recorded. */
class TimedRecorder extends Recorder {
  firstResponseAt = Infinity;
  lastErrorAt = -Infinity;
  override response(status: number, latencyUs: number, serviceUs: number): void {
    this.firstResponseAt = Math.min(this.firstResponseAt, performance.now());
    super.response(status, latencyUs, serviceUs);
  }
  override error(kind: ErrorKind, latencyUs: number): void {
    this.lastErrorAt = performance.now();
    super.error(kind, latencyUs);
  }
}

/** A server that will listen on `port` when told, counting requests and client connections. */
function lateServer(port: number) {
  let server: Deno.HttpServer | undefined;
  let listenedAt = NaN;
  let requests = 0;
  /** Client port → when its connection's first request arrived. */
  const firstByConnection = new Map<number, number>();
  return {
    listen() {
      server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (_req, info) => {
        requests++;
        const from = (info.remoteAddr as Deno.NetAddr).port;
        if (!firstByConnection.has(from)) firstByConnection.set(from, performance.now());
        return new Response("pong");
      });
      listenedAt = performance.now();
    },
    get listenedAt() {
      return listenedAt;
    },
    requests: () => requests,
    firstByConnection,
    close: () => server?.shutdown() ?? Promise.resolve(),
  };
}

async function runAgainstLateServer(intervalMs: number) {
  const port = freePort(); // free a moment ago: connects are refused until the server listens
  const server = lateServer(port);
  const url = `http://127.0.0.1:${port}/`;
  const rec = new TimedRecorder(intervalMs > 0);
  const engine = new Engine({
    dial: dialerFor(new URL(url)),
    request: buildRequest({ method: "GET", url }),
    head: false,
    timeoutMs: 2_000,
    connections: CONNECTIONS,
    count: Infinity,
  }, rec);
  const listening = setTimeout(() => server.listen(), LISTEN_AFTER_MS);
  try {
    await engine.warm();
    const timetable = { startMs: performance.now(), intervalMs, offset: 0, stride: 1 };
    const endMs = timetable.startMs + RUN_MS;
    await engine.run({ timetable, endMs });
    return { rec, s: rec.snapshot(true), server, offered: slotsBefore(timetable, endMs) };
  } finally {
    clearTimeout(listening);
    await server.close();
  }
}

Deno.test("closed model: a refused target that starts listening is found by the next probe, then used by every connection", async () => {
  const { rec, s, server } = await runAgainstLateServer(0);
  const found = rec.firstResponseAt - server.listenedAt;
  const firsts = [...server.firstByConnection.values()];
  const spread = Math.max(...firsts) - Math.min(...firsts);
  console.log(
    `first response ${found.toFixed(0)} ms after the target listened; all ${firsts.length} ` +
      `connections within ${spread.toFixed(0)} ms; ${s.errors} refusals, ${s.responses} responses`,
  );
  // The gate's pause is at most 1 s, and a resting connection tries again within 1 s of its
  // last try, so the probe that connects goes at most 2 s after the target listens.
  assert.ok(found <= 2 * BACKOFF_MAX_MS + SLACK_MS, `found ${found.toFixed(0)} ms after`);
  // The gate opening wakes every resting connection: they all connect at once, not each at the
  // end of its own rest (a second, by then).
  assert.equal(firsts.length, CONNECTIONS, "every connection was used");
  assert.ok(spread <= SLACK_MS, `connections came back over ${spread.toFixed(0)} ms`);
  assert.ok(rec.lastErrorAt < rec.firstResponseAt, "no refusal after the gate opened");
  assert.deepEqual(s.errorKinds, { connect_refused: s.errors });
  assert.equal(s.requests, s.responses + s.errors);
  assert.equal(server.requests(), s.responses, "the target answered every response counted");
});

Deno.test("paced model: a refused target that starts listening is found by the next probe", async () => {
  const { rec, s, server, offered } = await runAgainstLateServer(5);
  const found = rec.firstResponseAt - server.listenedAt;
  console.log(
    `first response ${found.toFixed(0)} ms after the target listened; ` +
      `${s.errors} refusals, ${s.responses} responses, ${s.dropped} dropped of ${offered}`,
  );
  // A slot comes due every 5 ms, so the probe goes with the first slot after the gate's pause,
  // which is at most 1 s.
  assert.ok(found <= BACKOFF_MAX_MS + 5 + SLACK_MS, `found ${found.toFixed(0)} ms after`);
  assert.ok(rec.lastErrorAt < rec.firstResponseAt, "no refusal after the gate opened");
  assert.deepEqual(s.errorKinds, { connect_refused: s.errors });
  assert.equal(s.requests + s.dropped, offered, "offered = requests + dropped");
  assert.equal(s.requests, s.responses + s.errors);
  assert.equal(server.requests(), s.responses, "the target answered every response counted");
});
