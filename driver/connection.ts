/**
 * One keep-alive HTTP/1.1 connection of the engine: writes the prebuilt request, reads into a
 * reused buffer and parses in place. Each request ends in exactly one response or one error on the
 * {@link Recorder}, with its latency, and is never sent twice: once its bytes were handed to the
 * socket, a failure before a complete response is that request's error (a re-send could be a
 * duplicate write on the system under test). While a paced connection sits idle it keeps a read
 * outstanding, so a server that closes it (an idle timeout) is noticed and the connection replaced
 * before the next request is written on it.
 *
 * Every dial goes through the worker's {@link DialGate}: while the target refuses connections, a
 * request that needs a new socket dials only as the gate's probe, and otherwise fails at once with
 * the error that shut the gate, without a syscall. In the closed model a connection whose connect
 * failed (dialled or not) also rests before its next request, 10 ms doubling to 1 s per
 * consecutive failure (driver/backoff.ts), cut short when the gate opens. Either way every request
 * still ends in exactly one outcome.
 */
import { connectBackoffMs } from "./backoff.ts";
import type { Dial } from "./dial.ts";
import { type DialGate, SHUT } from "./dial_gate.ts";
import { classifyError } from "./errors.ts";
import { ResponseParser } from "./http1.ts";
import type { Recorder } from "./recorder.ts";
import type { ErrorKind } from "./worker_protocol.ts";

/** What one {@link Connection.send} ended in. */
export const RESPONSE = 0;
export const FAILED = 1;
/** The connection could not be opened, or was not dialled as the gate is shut; see the header. */
export const CONNECT_FAILED = 2;
/** One of {@link RESPONSE}, {@link FAILED}, {@link CONNECT_FAILED}. */
export type SendOutcome = typeof RESPONSE | typeof FAILED | typeof CONNECT_FAILED;

const READ_BUFFER_BYTES = 64 * 1024;

/** Grants the closed model its next request: count left, not stopped, duration not over. */
export interface Budget {
  /** Claims one request at time `nowMs`; false when the test is over for this connection. */
  grant(nowMs: number): boolean;
  /**
   * Waits `ms` (a connect backoff), or less when the test ends first (stop, end of window) or the
   * dial gate opens.
   */
  rest(ms: number): Promise<void>;
}

/** The parts of a connection that do not change during a test. */
export interface ConnectionSetup {
  dial: Dial;
  request: Uint8Array;
  /** The request is HEAD: responses carry no body. */
  head: boolean;
  timeoutMs: number;
}

/** One connection's request loop state; the engine drives it, a sweeper enforces timeouts. */
export class Connection {
  /** Deadline of the request or connect in progress (performance.now() ms), 0 when idle. */
  deadline = 0;
  #setup: ConnectionSetup;
  #rec: Recorder;
  #gate: DialGate;
  #conn: Deno.Conn | null = null;
  #connecting: AbortController | null = null;
  #expired = false;
  #parser = new ResponseParser();
  #lastAt = 0;
  /**
   * Allocated on the first successful connect, so connections a test never uses, and those to a
   * target that refuses them, cost no buffer.
   */
  #buf: Uint8Array | null = null;
  /** Consecutive failed connects; 0 after a successful one. */
  #connectFailures = 0;
  /** The closed model rests until this time (performance.now() ms) after a failed connect. */
  #retryAt = 0;
  /** The read kept outstanding while the connection is idle, if any. */
  #idleRead: Promise<number | null> | null = null;
  /** The idle read ended (close, reset or stray bytes): the socket must not carry a request. */
  #idleEnded = false;

  /** `gate` is the worker's, shared by all its connections. */
  constructor(setup: ConnectionSetup, rec: Recorder, gate: DialGate) {
    this.#setup = setup;
    this.#rec = rec;
    this.#gate = gate;
  }

  /**
   * Opens the socket ahead of the first request, so a paced timetable's first slots do not wait
   * for a connect. A failure is left for the first request to meet and count; it shuts the gate,
   * and a shut gate is never probed by a warm-up (the first request does that).
   */
  async warm(): Promise<void> {
    if (this.#conn !== null || this.#gate.shut) return;
    const failure = await this.#open(performance.now());
    this.deadline = 0;
    if (failure === null) this.#watchIdle(this.#conn!);
  }

  /**
   * Sends one request and waits for its response or failure. `scheduledMs` is when the timetable
   * wanted it sent (latency is measured from there); NaN when unpaced (measured from the send).
   * With a `budget` (the closed model) it goes on sending back to back for as long as the budget
   * grants another request: one async frame per request instead of two, on the hottest path.
   */
  async send(scheduledMs: number, budget: Budget | null = null): Promise<SendOutcome> {
    // In the closed model the next request goes out the moment the previous response is in, so
    // that response's timestamp doubles as the next send time: one clock read per request.
    let clock = NaN;
    for (;;) {
      const outcome = await this.#exchange(scheduledMs, clock);
      clock = NaN;
      if (budget === null) {
        if (outcome === RESPONSE && this.#conn !== null) this.#watchIdle(this.#conn);
        return outcome;
      }
      if (outcome === CONNECT_FAILED) await budget.rest(this.#retryAt - performance.now());
      if (outcome === RESPONSE) clock = this.#lastAt;
      if (!budget.grant(clock === clock ? clock : performance.now())) return outcome;
      scheduledMs = NaN;
    }
  }

  /** One request: connect if needed, write, read the response; exactly one outcome recorded. */
  async #exchange(scheduledMs: number, clock: number): Promise<SendOutcome> {
    const rec = this.#rec;
    rec.requests++;
    let startedAt = clock === clock ? clock : performance.now();
    let resent = false;
    for (;;) {
      if (this.#idleEnded) this.#drop();
      if (this.#conn === null) {
        const failure = await this.#open(startedAt);
        if (failure !== null) {
          this.#backOff();
          return this.#failed(failure, scheduledMs, startedAt, CONNECT_FAILED);
        }
        this.#connectFailures = 0;
        startedAt = performance.now();
      }
      const conn = this.#conn!;
      const sentAt = startedAt;
      this.deadline = sentAt + this.#setup.timeoutMs;
      let written = 0;
      try {
        const request = this.#setup.request;
        written = await conn.write(request);
        while (written < request.length) written += await conn.write(request.subarray(written));
        return await this.#readResponse(conn, scheduledMs, sentAt);
      } catch (err) {
        const kind = this.#expired ? "timeout" : classifyError(err, false);
        this.#drop();
        if (written === 0 && !resent && !this.#expired && (kind === "reset" || kind === "closed")) {
          // The write itself failed, so not one byte of this request reached the kernel, let
          // alone the server: sending it on a fresh connection cannot duplicate it. Once only.
          resent = true;
          continue;
        }
        return this.#failed(kind, scheduledMs, sentAt, FAILED);
      }
    }
  }

  async #readResponse(conn: Deno.Conn, scheduledMs: number, sentAt: number): Promise<SendOutcome> {
    const parser = this.#parser;
    const buf = this.#buf!;
    parser.reset(this.#setup.head);
    let read = this.#idleRead;
    this.#idleRead = null;
    for (;;) {
      const n = await (read ?? conn.read(buf));
      read = null;
      if (n === null) {
        const complete = parser.eof() === "complete";
        this.#drop();
        if (complete) return this.#answered(scheduledMs, sentAt);
        return this.#failed(this.#expired ? "timeout" : "closed", scheduledMs, sentAt, FAILED);
      }
      const end = parser.feed(buf, 0, n);
      if (parser.complete) {
        if (end < n) {
          this.#drop();
          return this.#failed("malformed", scheduledMs, sentAt, FAILED);
        }
        if (!parser.keepAlive) this.#drop();
        return this.#answered(scheduledMs, sentAt);
      }
    }
  }

  /** Keeps a read outstanding on an idle socket: whatever ends it means the socket is done. */
  #watchIdle(conn: Deno.Conn): void {
    const read = conn.read(this.#buf!);
    this.#idleRead = read;
    const ended = () => {
      if (this.#idleRead === read) this.#idleEnded = true;
    };
    read.then(ended, ended);
  }

  #answered(scheduledMs: number, sentAt: number): SendOutcome {
    const now = performance.now();
    this.#lastAt = now;
    this.deadline = 0;
    const from = scheduledMs === scheduledMs ? scheduledMs : sentAt; // NaN: unpaced
    this.#rec.response(this.#parser.status, (now - from) * 1000, (now - sentAt) * 1000);
    return RESPONSE;
  }

  #failed(
    kind: ErrorKind,
    scheduledMs: number,
    startedAt: number,
    outcome: SendOutcome,
  ): SendOutcome {
    this.deadline = 0;
    const from = scheduledMs === scheduledMs ? scheduledMs : startedAt;
    this.#rec.error(kind, (performance.now() - from) * 1000);
    return outcome;
  }

  /** Starts (or lengthens) the closed model's rest after a failed connect (dialled or not). */
  #backOff(): void {
    this.#retryAt = performance.now() + connectBackoffMs(++this.#connectFailures);
  }

  /**
   * Dials if the gate admits it at `nowMs`, and tells the gate how the dial ended; a shut gate's
   * error, undialled, otherwise.
   */
  async #open(nowMs: number): Promise<ErrorKind | null> {
    const gate = this.#gate;
    if (gate.admit(this, nowMs) === SHUT) return gate.error;
    const failure = await this.#dial();
    if (failure === null) gate.connected(this);
    else gate.failed(this, failure, performance.now());
    return failure;
  }

  async #dial(): Promise<ErrorKind | null> {
    this.#expired = false;
    const controller = new AbortController();
    this.#connecting = controller;
    this.deadline = performance.now() + this.#setup.timeoutMs;
    try {
      const conn = await this.#setup.dial(controller.signal);
      this.#connecting = null;
      if (this.#expired) {
        conn.close();
        return "timeout";
      }
      this.#conn = conn;
      this.#buf ??= new Uint8Array(READ_BUFFER_BYTES);
      return null;
    } catch (err) {
      this.#connecting = null;
      this.deadline = 0;
      return this.#expired ? "timeout" : classifyError(err, true);
    }
  }

  /** Ends the request in progress as a timeout (called by the engine's sweeper). */
  expire(): void {
    this.#expired = true;
    this.deadline = 0;
    this.#connecting?.abort();
    this.#drop();
  }

  #drop(): void {
    const conn = this.#conn;
    this.#conn = null;
    this.#idleRead = null;
    this.#idleEnded = false;
    if (conn !== null) {
      try {
        conn.close();
      } catch {
        // Already closed by a timeout: nothing left to release.
      }
    }
  }

  /** Closes the socket; for the end of a test, when no request is in progress. */
  close(): void {
    this.#connecting?.abort();
    this.#drop();
  }
}
