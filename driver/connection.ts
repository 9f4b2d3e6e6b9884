/**
 * One keep-alive HTTP/1.1 connection of the engine: writes the prebuilt request, reads into a
 * reused buffer and parses in place. It reconnects transparently when the server has closed an
 * idle or used-up connection, and classifies every failure. Each call to {@link Connection.send}
 * ends in exactly one response or one error on the {@link Recorder}: never lost, never counted
 * twice.
 */
import { MalformedResponseError, ResponseParser } from "./http1.ts";
import type { Recorder } from "./recorder.ts";
import type { ErrorKind } from "./worker_protocol.ts";

/** Opens a socket to the target (Deno.connect or Deno.connectTls with the target's address). */
export type Dial = (signal: AbortSignal) => Promise<Deno.Conn>;

/** What one {@link Connection.send} ended in. */
export const RESPONSE = 0;
export const FAILED = 1;
/** The connection could not be opened; a closed-loop sender backs off before trying again. */
export const CONNECT_FAILED = 2;
/** One of {@link RESPONSE}, {@link FAILED}, {@link CONNECT_FAILED}. */
export type SendOutcome = typeof RESPONSE | typeof FAILED | typeof CONNECT_FAILED;

const READ_BUFFER_BYTES = 64 * 1024;
/** Pause after a failed connect in the closed model, so a dead target is not hammered in a spin. */
const CONNECT_BACKOFF_MS = 10;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Grants the closed model its next request: count left, not stopped, duration not over. */
export interface Budget {
  /** Claims one request at time `nowMs`; false when the test is over for this connection. */
  take(nowMs: number): boolean;
}

/** Maps a socket or connect error to an error kind. */
export function classifyError(err: unknown, connecting: boolean): ErrorKind {
  if (err instanceof MalformedResponseError) return "malformed";
  if (err instanceof Deno.errors.ConnectionRefused) return "connect_refused";
  if (err instanceof Deno.errors.TimedOut) return "timeout";
  if (
    err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.ConnectionAborted || err instanceof Deno.errors.UnexpectedEof ||
    err instanceof Deno.errors.NotConnected
  ) return "reset";
  return connecting ? "connect_refused" : "other";
}

/** One connection's request loop state; the engine drives it, a sweeper enforces timeouts. */
export class Connection {
  /** Deadline of the request or connect in progress (performance.now() ms), 0 when idle. */
  deadline = 0;
  #dial: Dial;
  #request: Uint8Array;
  #head: boolean;
  #timeoutMs: number;
  #rec: Recorder;
  #conn: Deno.Conn | null = null;
  #connecting: AbortController | null = null;
  /** Whether the socket has carried a response already (so a silent close may be a stale one). */
  #reused = false;
  #expired = false;
  #parser = new ResponseParser();
  #lastAt = 0;
  #buf = new Uint8Array(READ_BUFFER_BYTES);

  constructor(dial: Dial, request: Uint8Array, head: boolean, timeoutMs: number, rec: Recorder) {
    this.#dial = dial;
    this.#request = request;
    this.#head = head;
    this.#timeoutMs = timeoutMs;
    this.#rec = rec;
  }

  /**
   * Sends one request and waits for its response or failure. `scheduledMs` is when the timetable
   * wanted it sent (latency is measured from there); NaN when unpaced (measured from the send).
   * With a `budget` (the closed model) it goes on sending back to back for as long as the budget
   * grants another request: one async frame per request instead of two, on the hottest path.
   */
  async send(scheduledMs: number, budget: Budget | null = null): Promise<SendOutcome> {
    const rec = this.#rec;
    const parser = this.#parser;
    const buf = this.#buf;
    let outcome: SendOutcome;
    // In the closed model the next request goes out the moment the previous response is in, so
    // that response's timestamp doubles as the next send time: one clock read per request.
    let clock = NaN;
    for (;;) {
      rec.requests++;
      let retried = false;
      attempt: for (;;) {
        if (this.#conn === null) {
          clock = NaN;
          const failure = await this.#open();
          if (failure !== null) {
            rec.error(failure);
            outcome = CONNECT_FAILED;
            break attempt;
          }
        }
        const conn = this.#conn!;
        const sentAt = clock === clock ? clock : performance.now();
        clock = NaN;
        this.deadline = sentAt + this.#timeoutMs;
        parser.reset(this.#head);
        try {
          const request = this.#request;
          let written = await conn.write(request);
          while (written < request.length) written += await conn.write(request.subarray(written));
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) {
              const eof = parser.eof();
              if (eof === "complete") {
                this.#drop();
                outcome = this.#answered(scheduledMs, sentAt);
                break attempt;
              }
              if (eof === "empty" && this.#reused && !retried && !this.#expired) {
                // The server closed a kept-alive connection before it saw this request: resend
                // once on a fresh connection. Not a new request, so not counted again.
                retried = true;
                this.#drop();
                continue attempt;
              }
              this.#drop();
              outcome = this.#failed(this.#expired ? "timeout" : "reset");
              break attempt;
            }
            const end = parser.feed(buf, 0, n);
            if (parser.complete) {
              if (end < n) {
                throw new MalformedResponseError(`${n - end} bytes after the response`);
              }
              if (parser.keepAlive) this.#reused = true;
              else this.#drop();
              outcome = this.#answered(scheduledMs, sentAt);
              break attempt;
            }
          }
        } catch (err) {
          const stale = this.#reused && parser.bytesSeen === 0;
          const kind = this.#expired ? "timeout" : classifyError(err, false);
          this.#drop();
          if (kind === "reset" && stale && !retried) {
            retried = true; // a reset on a stale kept-alive connection: same retry rule as a close
            continue attempt;
          }
          outcome = this.#failed(kind);
          break attempt;
        }
      }
      if (budget === null) return outcome;
      if (outcome === CONNECT_FAILED) await sleep(CONNECT_BACKOFF_MS);
      // The time of the last response saves a clock read on the hot path.
      if (outcome === RESPONSE) clock = this.#lastAt;
      if (!budget.take(clock === clock ? clock : performance.now())) return outcome;
      scheduledMs = NaN;
    }
  }

  #answered(scheduledMs: number, sentAt: number): SendOutcome {
    const now = performance.now();
    this.#lastAt = now;
    this.deadline = 0;
    const from = scheduledMs === scheduledMs ? scheduledMs : sentAt; // NaN: unpaced
    this.#rec.response(this.#parser.status, (now - from) * 1000, (now - sentAt) * 1000);
    return RESPONSE;
  }

  #failed(kind: ErrorKind): SendOutcome {
    this.deadline = 0;
    this.#rec.error(kind);
    return FAILED;
  }

  async #open(): Promise<ErrorKind | null> {
    this.#expired = false;
    this.#reused = false;
    const controller = new AbortController();
    this.#connecting = controller;
    this.deadline = performance.now() + this.#timeoutMs;
    try {
      const conn = await this.#dial(controller.signal);
      this.#connecting = null;
      if (this.#expired) {
        conn.close();
        return "timeout";
      }
      this.#conn = conn;
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
    this.#reused = false;
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
