/// <reference lib="deno.worker" />
/**
 * The load worker (a Web Worker spawned by driver/pool.ts): like a main.ts it is an entry point
 * that touches the world, here the target's sockets. On `prepare` it builds its {@link Engine},
 * opens its connections and warms the response parser; on `start` it runs its {@link WorkerTask},
 * posts a delta snapshot every report interval (aligned to the test's start) and a final one,
 * then `done`.
 */
import { dialerFor } from "./dial.ts";
import { Engine } from "./engine.ts";
import { ResponseParser } from "./http1.ts";
import { buildRequest } from "./http1_request.ts";
import { Recorder } from "./recorder.ts";
import { tickerWaker } from "./ticker.ts";
import {
  assertNever,
  type MainToWorker,
  type WorkerTask,
  type WorkerToMain,
} from "./worker_protocol.ts";

const post = (message: WorkerToMain) => self.postMessage(message);

interface Prepared {
  task: WorkerTask;
  engine: Engine;
  recorder: Recorder;
}

let prepared: Prepared | undefined;
let stopRequested = false;

const WARM_RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\npong",
);

/**
 * Runs the response parser over a canned response until the JIT has compiled it, so the first
 * real responses of a test are parsed as fast as the thousandth.
 */
function warmParser(): void {
  const parser = new ResponseParser();
  for (let i = 0; i < 2000; i++) {
    parser.reset(false);
    parser.feed(WARM_RESPONSE, 0, WARM_RESPONSE.length);
  }
}

async function prepare(task: WorkerTask): Promise<void> {
  const { spec } = task;
  const recorder = new Recorder(spec.intervalMs > 0, spec.expectedStatuses);
  const engine = new Engine({
    dial: dialerFor(new URL(spec.url), spec.caCerts, spec.address),
    request: buildRequest(spec),
    head: spec.method === "HEAD",
    timeoutMs: spec.timeoutMs,
    connections: task.connections,
    count: spec.count === 0 ? Infinity : task.count,
    ...(task.ticker === undefined
      ? {}
      : { createWaker: (onWake: () => void) => tickerWaker(task.ticker!, onWake) }),
  }, recorder);
  prepared = { task, engine, recorder };
  warmParser();
  await engine.warm();
  post({ type: "prepared" });
}

async function run(startAt: number): Promise<void> {
  if (prepared === undefined) throw new Error("start before prepare");
  const { task, engine, recorder } = prepared;
  const { spec } = task;
  const startMs = startAt - performance.timeOrigin;
  if (stopRequested) engine.stop();

  // Snapshots at start + k * reportMs, computed from k so they do not drift.
  let tick = 1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    const wait = startMs + tick * task.reportMs - performance.now();
    timer = setTimeout(() => {
      tick++;
      post({ type: "snapshot", snapshot: recorder.snapshot(false) });
      schedule();
    }, Math.max(0, wait));
  };
  schedule();
  try {
    await engine.run({
      timetable: { startMs, intervalMs: spec.intervalMs, offset: task.offset, stride: task.stride },
      endMs: spec.durationMs === null ? Infinity : startMs + spec.durationMs,
    });
  } finally {
    clearTimeout(timer);
  }
  post({ type: "snapshot", snapshot: recorder.snapshot(true) });
  post({ type: "done" });
}

const reportError = (err: unknown) =>
  post({ type: "error", message: err instanceof Error ? err.message : String(err) });

self.onmessage = (event: MessageEvent<MainToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "prepare":
      prepare(message.task).catch(reportError);
      break;
    case "start":
      run(message.startAt).catch(reportError);
      break;
    case "stop":
      stopRequested = true;
      prepared?.engine.stop();
      break;
    default:
      assertNever(message);
  }
};

post({ type: "ready" });
