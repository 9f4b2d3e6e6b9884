/**
 * A worker's accumulator for one interval: counters, status codes and the latency histograms.
 * Recording is allocation-free (status codes go into a typed array); {@link Recorder.snapshot}
 * turns the interval into a plain-data {@link Snapshot} delta and starts the next one.
 */
import {
  createLatencyHistogram,
  encodeHistogram,
  type Histogram,
  mergeInto,
  recordMicros,
} from "../shared/histogram.ts";
import { ERROR_KINDS, type ErrorKind, type Snapshot } from "./worker_protocol.ts";

const STATUS_SLOTS = 1000;

/** Counts of one worker's requests, reset at every snapshot. */
export class Recorder {
  requests = 0;
  responses = 0;
  errors = 0;
  late = 0;
  dropped = 0;
  queued = 0;
  #errorKinds = new Float64Array(ERROR_KINDS.length);
  #statusCodes = new Float64Array(STATUS_SLOTS);
  /** 1 where a status counts as success. */
  #expected = new Uint8Array(STATUS_SLOTS);
  /** Latency of the responses (every status). */
  #responses: Histogram = createLatencyHistogram();
  /** Latency of the errors; merged with {@link #responses} into the snapshot's main histogram. */
  #errorLatency: Histogram = createLatencyHistogram();
  /** Latency of the errors and of the responses without an expected status. */
  #failed: Histogram = createLatencyHistogram();
  #service: Histogram = createLatencyHistogram();
  #lag: Histogram = createLatencyHistogram();
  #seq = 0;
  #paced: boolean;

  /**
   * `paced`: latency is measured from the scheduled time, so service time differs from it and
   * has a histogram of its own; unpaced, the response latency is the service time and is recorded
   * once. `expectedStatuses`: the statuses that count as success (default 200-399).
   */
  constructor(paced: boolean, expectedStatuses?: readonly number[]) {
    this.#paced = paced;
    if (expectedStatuses === undefined) this.#expected.fill(1, 200, 400);
    else for (const s of expectedStatuses) if (s >= 0 && s < STATUS_SLOTS) this.#expected[s] = 1;
  }

  /** One response: its status, latency (from the scheduled time when paced) and service time. */
  response(status: number, latencyUs: number, serviceUs: number): void {
    this.responses++;
    this.#statusCodes[status] = this.#statusCodes[status]! + 1;
    recordMicros(this.#responses, latencyUs);
    if (this.#expected[status] !== 1) recordMicros(this.#failed, latencyUs);
    if (this.#paced) recordMicros(this.#service, serviceUs);
  }

  /** One request that ended without a response, after `latencyUs` (it counts in the latency). */
  error(kind: ErrorKind, latencyUs: number): void {
    this.errors++;
    const i = ERROR_KINDS.indexOf(kind);
    this.#errorKinds[i] = this.#errorKinds[i]! + 1;
    recordMicros(this.#errorLatency, latencyUs);
    recordMicros(this.#failed, latencyUs);
  }

  /** One paced request handed to a connection `lagUs` after its slot. */
  sent(lagUs: number, late: boolean): void {
    recordMicros(this.#lag, lagUs);
    if (late) this.late++;
  }

  /** The interval's delta as plain data; the recorder starts a fresh interval. */
  snapshot(final: boolean): Snapshot {
    const errorKinds: Snapshot["errorKinds"] = {};
    ERROR_KINDS.forEach((kind, i) => {
      if (this.#errorKinds[i]! > 0) errorKinds[kind] = this.#errorKinds[i]!;
    });
    const statusCodes: Record<string, number> = {};
    for (let code = 0; code < STATUS_SLOTS; code++) {
      if (this.#statusCodes[code]! > 0) statusCodes[String(code)] = this.#statusCodes[code]!;
    }
    const responses = encodeHistogram(this.#responses);
    let histogram = responses;
    if (this.#errorLatency.totalCount > 0) {
      mergeInto(this.#errorLatency, this.#responses);
      histogram = encodeHistogram(this.#errorLatency);
    }
    const snapshot: Snapshot = {
      seq: ++this.#seq,
      final,
      requests: this.requests,
      responses: this.responses,
      errors: this.errors,
      late: this.late,
      dropped: this.dropped,
      queued: this.queued,
      errorKinds,
      statusCodes,
      histogram,
      failedHistogram: encodeHistogram(this.#failed),
      serviceHistogram: this.#paced ? encodeHistogram(this.#service) : responses,
      lagHistogram: encodeHistogram(this.#lag),
    };
    this.requests =
      this.responses =
      this.errors =
      this.late =
      this.dropped =
      this.queued =
        0;
    this.#errorKinds.fill(0);
    this.#statusCodes.fill(0);
    for (const h of [this.#responses, this.#errorLatency, this.#failed, this.#service, this.#lag]) {
      h.reset();
    }
    return snapshot;
  }
}
