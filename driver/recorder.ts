/**
 * A worker's accumulator for one interval: counters, status codes and the two latency histograms.
 * Recording is allocation-free (status codes go into a typed array); {@link Recorder.take} turns
 * the interval into a plain-data {@link Snapshot} delta and starts the next one.
 */
import {
  createLatencyHistogram,
  encodeHistogram,
  type Histogram,
  recordMicros,
} from "../shared/histogram.ts";
import { ERROR_KINDS, type ErrorKind, type Snapshot } from "./worker_protocol.ts";

/** Counts of one worker's requests, reset at every snapshot. */
export class Recorder {
  requests = 0;
  responses = 0;
  errors = 0;
  late = 0;
  #errorKinds = new Float64Array(ERROR_KINDS.length);
  #statusCodes = new Float64Array(1000);
  #histogram: Histogram = createLatencyHistogram();
  #service: Histogram = createLatencyHistogram();
  #seq = 0;
  #serviceIsLatency: boolean;

  /**
   * `serviceIsLatency`: the test is unpaced, so latency is the service time; it is recorded once
   * and the one histogram stands for both (a histogram record less per request).
   */
  constructor(serviceIsLatency = false) {
    this.#serviceIsLatency = serviceIsLatency;
  }

  /** One response: its status, latency (from the scheduled time when paced) and service time. */
  response(status: number, latencyUs: number, serviceUs: number): void {
    this.responses++;
    this.#statusCodes[status] = this.#statusCodes[status]! + 1;
    recordMicros(this.#histogram, latencyUs);
    if (!this.#serviceIsLatency) recordMicros(this.#service, serviceUs);
  }

  /** One request that ended without a response. */
  error(kind: ErrorKind): void {
    this.errors++;
    const i = ERROR_KINDS.indexOf(kind);
    this.#errorKinds[i] = this.#errorKinds[i]! + 1;
  }

  /** The interval's delta as plain data; the recorder starts a fresh interval. */
  take(final: boolean): Snapshot {
    const errorKinds: Snapshot["errorKinds"] = {};
    ERROR_KINDS.forEach((kind, i) => {
      if (this.#errorKinds[i]! > 0) errorKinds[kind] = this.#errorKinds[i]!;
    });
    const statusCodes: Record<string, number> = {};
    for (let code = 0; code < this.#statusCodes.length; code++) {
      if (this.#statusCodes[code]! > 0) statusCodes[String(code)] = this.#statusCodes[code]!;
    }
    const histogram = encodeHistogram(this.#histogram);
    const snapshot: Snapshot = {
      seq: ++this.#seq,
      final,
      requests: this.requests,
      responses: this.responses,
      errors: this.errors,
      late: this.late,
      errorKinds,
      statusCodes,
      histogram,
      serviceHistogram: this.#serviceIsLatency ? histogram : encodeHistogram(this.#service),
    };
    this.requests =
      this.responses =
      this.errors =
      this.late =
        0;
    this.#errorKinds.fill(0);
    this.#statusCodes.fill(0);
    this.#histogram.reset();
    this.#service.reset();
    return snapshot;
  }
}
