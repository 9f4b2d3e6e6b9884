/**
 * The driver's main-thread side of a test: spawns the load workers, splits the work exactly,
 * adds their delta snapshots up into the test's cumulative {@link Totals} and reports them once
 * per interval (when every running worker has sent its snapshot for it) and once at the end.
 *
 * A test goes through three phases: the workers (and a paced test's ticker threads) load and say
 * `ready`; each gets its task and opens its connections (`prepared`); then the start time is set
 * a few milliseconds ahead and sent to all, so the first slot of the first test after start-up is
 * as punctual as any later one.
 */
import { roundRobinShare, split } from "./split.ts";
import { connectTicker, spawnTicker, stopTicker, type TickerThread } from "./ticker.ts";
import {
  addSnapshot,
  createHistogramSet,
  createTotals,
  type HistogramSet,
  resetHistograms,
  type Totals,
} from "./totals.ts";
import {
  assertNever,
  type LoadSpec,
  type MainToWorker,
  type WorkerTask,
  type WorkerToMain,
} from "./worker_protocol.ts";

/** The cumulative state of a test at one report. */
export interface PoolReport extends Totals {
  /**
   * The histograms of the requests that ended since the previous report. Lent for the
   * `onReport` call only: the pool empties them afterwards to fill the next interval.
   */
  interval: HistogramSet;
  /** Milliseconds since the test started; on the final report, the test's own duration. */
  elapsedMs: number;
  /** Responses per second since the previous report. */
  intervalRps: number;
  /**
   * Requests with no outcome yet: in flight, or lost with a crashed worker (final report), so
   * `requests = responses + errors + unfinished` holds in every report.
   */
  unfinished: number;
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
/**
 * Time between sending `start` to prepared workers and the first request: enough for the message
 * to reach an idle worker on a busy machine, short enough not to be noticed.
 */
const START_MARGIN_MS = 50;

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
export function planTasks(spec: LoadSpec, n: number, reportMs: number): WorkerTask[] {
  const connections = split(spec.connections, n);
  return connections.map((conns, i) => ({
    spec,
    connections: conns,
    count: roundRobinShare(spec.count, n, i),
    offset: i,
    stride: n,
    reportMs,
  }));
}

function spawnLoadWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
}

const clock = () => performance.timeOrigin + performance.now();
const messageOf = (err: unknown) => err instanceof Error ? err.message : String(err);

/** One test on a pool of load workers. */
export class WorkerPool implements RunningTest {
  readonly done: Promise<PoolReport>;
  #spec: LoadSpec;
  #options: PoolOptions;
  #n: number;
  #workers: Worker[] = [];
  /** Paced tests get one precise ticker thread per load worker (see driver/ticker.ts). */
  #tickers: TickerThread[];
  #live = new Set<number>();
  #reported = new Set<number>();
  #lastSeq: number[];
  #readyCount = 0;
  #preparedCount = 0;
  #totals = createTotals();
  #interval = createHistogramSet();
  #startAt = 0;
  #lastReportAt = 0;
  #lastResponses = 0;
  #stopped = false;
  #error: string | undefined;
  #resolveDone!: (report: PoolReport) => void;

  constructor(spec: LoadSpec, options: PoolOptions) {
    this.#spec = spec;
    this.#options = options;
    this.#n = workerCount(spec, options.workers);
    this.#lastSeq = new Array(this.#n).fill(0);
    this.done = new Promise<PoolReport>((resolve) => this.#resolveDone = resolve);
    this.#tickers = spec.intervalMs > 0 ? Array.from({ length: this.#n }, () => spawnTicker()) : [];
    const spawn = options.spawn ?? spawnLoadWorker;
    for (let i = 0; i < this.#n; i++) {
      const worker = spawn();
      this.#workers.push(worker);
      this.#live.add(i);
      worker.onmessage = (event: MessageEvent<WorkerToMain>) => {
        try {
          this.#onMessage(i, event.data);
        } catch (err) {
          this.#fail(i, messageOf(err));
        }
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault(); // a crashed worker fails this test, not the driver process
        this.#fail(i, event.message);
      };
    }
  }

  /** Ends the test early: no new requests; those in flight finish or time out. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#startAt !== 0) { for (const i of this.#live) this.#post(i, { type: "stop" }); }
  }

  #post(i: number, message: MainToWorker, transfer: Transferable[] = []): void {
    this.#workers[i]!.postMessage(message, transfer);
  }

  #onMessage(i: number, message: WorkerToMain): void {
    switch (message.type) {
      case "ready":
        if (++this.#readyCount === this.#n) {
          Promise.all(this.#tickers.map((t) => t.ready)).then(
            () => this.#prepare(),
            (err) => this.#fail(i, messageOf(err)),
          );
        }
        break;
      case "prepared":
        if (++this.#preparedCount === this.#n && this.#live.size === this.#n) this.#start();
        break;
      case "snapshot": {
        const { snapshot } = message;
        if (snapshot.seq !== this.#lastSeq[i]! + 1) {
          this.#fail(i, `snapshot ${snapshot.seq} after ${this.#lastSeq[i]}: the protocol broke`);
          return;
        }
        this.#lastSeq[i] = snapshot.seq;
        addSnapshot(this.#totals, snapshot, this.#interval);
        this.#reported.add(i);
        if (!snapshot.final && this.#reported.size >= this.#live.size) this.#report(false);
        break;
      }
      case "done":
        this.#retire(i);
        break;
      case "error":
        this.#fail(i, message.message);
        break;
      default:
        assertNever(message, "worker message");
    }
  }

  #prepare(): void {
    if (this.#live.size !== this.#n) return; // a worker failed while the others loaded
    planTasks(this.#spec, this.#n, this.#options.reportMs).forEach((task, i) => {
      const ticker = this.#tickers[i];
      if (ticker === undefined) {
        this.#post(i, { type: "prepare", task });
        return;
      }
      const port = connectTicker(ticker);
      const withTicker = { ...task, ticker: { shared: ticker.shared, port } };
      this.#post(i, { type: "prepare", task: withTicker }, [port]);
    });
  }

  #start(): void {
    this.#startAt = clock() + START_MARGIN_MS;
    this.#lastReportAt = this.#startAt;
    for (let i = 0; i < this.#n; i++) {
      this.#post(i, { type: "start", startAt: this.#startAt });
      if (this.#stopped) this.#post(i, { type: "stop" });
    }
  }

  #report(final: boolean): PoolReport {
    const totals = this.#totals;
    const now = clock();
    const seconds = (now - this.#lastReportAt) / 1000;
    const r: PoolReport = {
      ...totals,
      errorKinds: { ...totals.errorKinds },
      statusCodes: { ...totals.statusCodes },
      interval: this.#interval,
      elapsedMs: Math.max(0, now - this.#startAt),
      intervalRps: seconds > 0 ? (totals.responses - this.#lastResponses) / seconds : 0,
      unfinished: totals.requests - totals.responses - totals.errors,
      final,
      ...(this.#error === undefined ? {} : { error: this.#error }),
    };
    this.#lastReportAt = now;
    this.#lastResponses = totals.responses;
    this.#reported.clear();
    this.#options.onReport?.(r);
    resetHistograms(this.#interval);
    return r;
  }

  #retire(i: number): void {
    if (!this.#live.delete(i)) return;
    this.#reported.delete(i);
    this.#workers[i]!.terminate();
    if (this.#tickers[i] !== undefined) stopTicker(this.#tickers[i]!);
    if (this.#live.size === 0) {
      if (this.#startAt === 0) this.#startAt = this.#lastReportAt = clock(); // failed early
      this.#resolveDone(this.#report(true));
    } else if (this.#reported.size >= this.#live.size) this.#report(false);
  }

  #fail(i: number, message: string): void {
    this.#error ??= `worker ${i}: ${message}`;
    if (this.#startAt === 0) {
      // Not started yet: the others wait for a start that will never come.
      for (const j of [...this.#live]) this.#retire(j);
      return;
    }
    for (const j of this.#live) if (j !== i) this.#post(j, { type: "stop" });
    this.#retire(i);
  }
}

/** Starts `spec` on a pool of workers. */
export function startTest(spec: LoadSpec, options: PoolOptions): RunningTest {
  return new WorkerPool(spec, options);
}
