/**
 * A fleet of synthetic drivers on a message bus, for the aggregation-cost bench: each node
 * registers and heartbeats once a second as driver/node.ts and driver/heartbeat.ts do (busy with
 * the test while it has reports to send, idle otherwise), and sends one prepared `metrics` report
 * per second while reporting is on. The nodes take turns, spread evenly over each second, as real
 * drivers started at different moments would. Everything goes through the bus's publish, so each
 * message is validated and encoded exactly as a driver's.
 */
import { sleep } from "../shared/async.ts";
import type { MessageBus } from "../shared/bus.ts";
import type { MetricsMessage } from "../shared/messages.ts";

/** What a fleet is made of. */
export interface FleetOptions {
  bus: MessageBus;
  nodeIds: readonly string[];
  /** Heartbeat (and report) interval of every node. */
  intervalMs?: number;
  now?: () => number;
}

/** The fleet's run: {@link start}, feed it reports, {@link stop} it. */
export class SyntheticFleet {
  readonly nodeIds: readonly string[];
  /** Each node's run identity, as a driver draws one at start. */
  readonly instanceIds: ReadonlyMap<string, string>;
  /** Metrics messages published so far. */
  sent = 0;
  /** The report_id each node sent last. */
  readonly lastReport = new Map<string, number>();
  /** Publishes that failed (the bench reports them: every one is a lost report). */
  failures = 0;
  #bus: MessageBus;
  #intervalMs: number;
  #now: () => number;
  #testId: string | null = null;
  #queues = new Map<string, MetricsMessage[]>();
  #reporting = false;
  #stopping = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: FleetOptions) {
    this.nodeIds = options.nodeIds;
    this.instanceIds = new Map(options.nodeIds.map((id) => [id, crypto.randomUUID()]));
    this.#bus = options.bus;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Registers every node, then heartbeats each one every interval until {@link stop}. */
  async start(): Promise<void> {
    await Promise.all(this.nodeIds.map((nodeId) =>
      this.#bus.publish("register", {
        node_id: nodeId,
        node_IP: "127.0.0.1",
        message_type: "DRIVER_NODE_REGISTER",
        timestamp: this.#now(),
        workers: 1,
        instance_id: this.instanceIds.get(nodeId)!,
      }, nodeId)
    ));
    this.#loop = this.#run();
  }

  /**
   * Queues each node's reports for `testId` (one per interval, in order) and starts sending
   * them; the nodes heartbeat busy with the test until their queue is empty.
   */
  report(testId: string, reports: ReadonlyMap<string, readonly MetricsMessage[]>): void {
    this.#testId = testId;
    for (const [nodeId, messages] of reports) {
      this.#queues.set(nodeId, [...(this.#queues.get(nodeId) ?? []), ...messages]);
    }
    this.#reporting = true;
  }

  /** Holds (false) or resumes (true) the reports; heartbeats go on. */
  set reporting(on: boolean) {
    this.#reporting = on;
  }

  /** Stops the heartbeats and reports. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }

  /** One node per tick, each node once per interval, on a timetable that does not drift. */
  async #run(): Promise<void> {
    const n = this.nodeIds.length;
    const step = this.#intervalMs / n;
    const start = performance.now();
    for (let tick = 0; !this.#stopping.signal.aborted; tick++) {
      await sleep(start + tick * step - performance.now(), this.#stopping.signal);
      if (this.#stopping.signal.aborted) return;
      this.#beat(this.nodeIds[tick % n]!);
    }
  }

  #beat(nodeId: string): void {
    const queue = this.#queues.get(nodeId) ?? [];
    const report = this.#reporting ? queue.shift() : undefined;
    const busy = queue.length > 0 || report !== undefined;
    const publish = (p: Promise<void>) => p.catch(() => this.failures++);
    publish(this.#bus.publish("heartbeat", {
      node_id: nodeId,
      heartbeat: "YES",
      timestamp: this.#now(),
      test_id: busy ? this.#testId : null,
      interval_ms: this.#intervalMs,
      instance_id: this.instanceIds.get(nodeId)!,
    }, nodeId));
    if (report === undefined) return;
    this.sent++;
    this.lastReport.set(nodeId, report.report_id);
    publish(this.#bus.publish("metrics", { ...report, timestamp: this.#now() }, nodeId));
  }
}
