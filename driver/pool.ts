/**
 * The driver's main-thread side of a test: spawns the load workers, splits the work exactly,
 * adds their delta snapshots up into the test's cumulative {@link Totals} and reports them once
 * per interval (when every running worker has sent its snapshot for it) and once at the end.
 */
import { roundRobinShare, split } from "./split.ts";
import { connectTicker, spawnTicker, stopTicker, type TickerThread } from "./ticker.ts";
import { addSnapshot, createTotals, type Totals } from "./totals.ts";
import {
  assertNever,
  type LoadSpec,
  type MainToWorker,
  type WorkerTask,
  type WorkerToMain,
} from "./worker_protocol.ts";

/** The cumulative state of a test at one report. */
export interface PoolReport extends Totals {
  /** Milliseconds since the test started; on the final report, the test's own duration. */
  elapsedMs: number;
  /** Responses per second since the previous report. */
  intervalRps: number;
  final: boolean;
  /** Set when a worker failed; the totals then hold what the other workers did. */
  error?: string;
}

/** How to run a test. */
export interface PoolOptions {
  /** Upper bound on load workers (the node's --workers). */
  workers: number;
  reportMs: number;
  /** Called at every report, the final one included. */
  onReport?: (report: PoolReport) => void;
  /** Creates a load worker; tests and embedders may substitute their own. */
  spawn?: () => Worker;
}

/** A running test. */
export interface RunningTest {
  /** Resolves with the final report once every worker is done. */
  readonly done: Promise<PoolReport>;
  /** Ends the test early: no new requests; those in flight finish or time out. */
  stop(): void;
}

/** A paced test gets one worker per this many requests/s: pacing needs little CPU, more workers
 * would only add event loops that wake up for nothing. */
const PACED_RPS_PER_WORKER = 25_000;
/** Time between sending `start` and the first request, so every worker starts on the same tick. */
const START_MARGIN_MS = 20;

/** How many workers a test uses: never more than it has connections or requests. */
export function workerCount(spec: LoadSpec, maxWorkers: number): number {
  let n = Math.max(1, Math.floor(maxWorkers));
  n = Math.min(n, spec.connections);
  if (spec.count > 0) n = Math.min(n, spec.count);
  if (spec.intervalMs > 0) {
    n = Math.min(n, Math.ceil(1000 / spec.intervalMs / PACED_RPS_PER_WORKER));
  }
  return Math.max(1, n);
}

/** The tasks for `n` workers: connections and counts split exactly, one interleaved timetable. */
export function planTasks(
  spec: LoadSpec,
  n: number,
  startAt: number,
  reportMs: number,
): WorkerTask[] {
  const connections = split(spec.connections, n);
  return connections.map((conns, i) => ({
    spec,
    connections: conns,
    count: roundRobinShare(spec.count, n, i),
    offset: i,
    stride: n,
    startAt,
    reportMs,
  }));
}

function spawnLoadWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
}

const clock = () => performance.timeOrigin + performance.now();

/** Starts `spec` on a pool of workers. */
export function startTest(spec: LoadSpec, options: PoolOptions): RunningTest {
  const n = workerCount(spec, options.workers);
  const spawn = options.spawn ?? spawnLoadWorker;
  const totals = createTotals();
  const workers: Worker[] = [];
  const live = new Set<number>();
  const reported = new Set<number>();
  const lastSeq: number[] = new Array(n).fill(0);
  let readyCount = 0;
  let startAt = 0;
  let lastReportAt = 0;
  let lastResponses = 0;
  let stopped = false;
  let error: string | undefined;
  let resolveDone!: (report: PoolReport) => void;
  const done = new Promise<PoolReport>((resolve) => resolveDone = resolve);

  const post = (i: number, message: MainToWorker, transfer: Transferable[] = []) =>
    workers[i]!.postMessage(message, transfer);
  // Paced tests get one precise ticker thread per load worker (see driver/ticker.ts).
  const tickers: TickerThread[] = spec.intervalMs > 0
    ? Array.from({ length: n }, () => spawnTicker())
    : [];
  const tickersReady = Promise.all(tickers.map((t) => t.ready));

  const report = (final: boolean) => {
    const now = clock();
    const seconds = (now - lastReportAt) / 1000;
    const r: PoolReport = {
      ...totals,
      errorKinds: { ...totals.errorKinds },
      statusCodes: { ...totals.statusCodes },
      elapsedMs: Math.max(0, now - startAt),
      intervalRps: seconds > 0 ? (totals.responses - lastResponses) / seconds : 0,
      final,
      ...(error === undefined ? {} : { error }),
    };
    lastReportAt = now;
    lastResponses = totals.responses;
    reported.clear();
    options.onReport?.(r);
    return r;
  };

  const retire = (i: number) => {
    if (!live.delete(i)) return;
    reported.delete(i);
    workers[i]!.terminate();
    if (tickers[i] !== undefined) stopTicker(tickers[i]!);
    if (live.size === 0) {
      if (startAt === 0) startAt = lastReportAt = clock(); // failed before it started
      resolveDone(report(true));
    } else if (reported.size >= live.size) report(false);
  };

  const fail = (i: number, message: string) => {
    error ??= `worker ${i}: ${message}`;
    if (startAt === 0) {
      // Not started yet: the others wait for a start that will never come.
      for (const j of [...live]) retire(j);
      return;
    }
    for (const j of live) if (j !== i) post(j, { type: "stop" });
    retire(i);
  };

  const start = () => {
    startAt = clock() + START_MARGIN_MS;
    lastReportAt = startAt;
    planTasks(spec, n, startAt, options.reportMs).forEach((task, i) => {
      const ticker = tickers[i];
      if (ticker === undefined) post(i, { type: "start", task });
      else {
        const port = connectTicker(ticker);
        post(i, { type: "start", task: { ...task, ticker: { shared: ticker.shared, port } } }, [
          port,
        ]);
      }
      if (stopped) post(i, { type: "stop" });
    });
  };

  const onMessage = (i: number, message: WorkerToMain) => {
    switch (message.type) {
      case "ready":
        if (++readyCount === n) {
          tickersReady.then(() => {
            if (live.size === n) start();
          }, (err) => fail(i, err instanceof Error ? err.message : String(err)));
        }
        break;
      case "snapshot": {
        const { snapshot } = message;
        if (snapshot.seq !== lastSeq[i]! + 1) {
          fail(i, `snapshot ${snapshot.seq} after ${lastSeq[i]}: the worker protocol broke`);
          return;
        }
        lastSeq[i] = snapshot.seq;
        addSnapshot(totals, snapshot);
        reported.add(i);
        if (!snapshot.final && reported.size >= live.size) report(false);
        break;
      }
      case "done":
        retire(i);
        break;
      case "error":
        fail(i, message.message);
        break;
      default:
        assertNever(message, "worker message");
    }
  };

  for (let i = 0; i < n; i++) {
    const worker = spawn();
    workers.push(worker);
    live.add(i);
    worker.onmessage = (event: MessageEvent<WorkerToMain>) => {
      try {
        onMessage(i, event.data);
      } catch (err) {
        fail(i, err instanceof Error ? err.message : String(err));
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault(); // a crashed worker fails this test, not the driver process
      fail(i, event.message);
    };
  }

  return {
    done,
    stop() {
      if (stopped) return;
      stopped = true;
      if (startAt !== 0) { for (const i of live) post(i, { type: "stop" }); }
    },
  };
}
