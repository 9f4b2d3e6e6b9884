/**
 * The load engine's streaming HTTP/1.x response parser (requests are built once per test by
 * driver/http1_request.ts). It is a state machine over a reused read buffer: a read may end at
 * any byte, one read may hold several responses, and nothing is decoded to a string except the
 * rare headers whose value needs it (Transfer-Encoding, unusual Connection values).
 */

/** A response that does not follow HTTP/1.1 framing; the connection cannot be reused. */
export class MalformedResponseError extends Error {
  override name = "MalformedResponseError";
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;
const COMMA = 44;
const SEMICOLON = 59;

// Parser states. Line states consume whole lines; the others count bytes.
const STATUS = 0;
const HEADER = 1;
const BODY_LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_END = 5;
const TRAILER = 6;
const BODY_UNTIL_CLOSE = 7;
const DONE = 8;

/** A header name as bytes in both cases, for allocation-free case-insensitive matching. */
function caseless(name: string): { lower: Uint8Array; upper: Uint8Array } {
  const enc = new TextEncoder();
  return { lower: enc.encode(name.toLowerCase()), upper: enc.encode(name.toUpperCase()) };
}
const CONTENT_LENGTH = caseless("content-length");
const TRANSFER_ENCODING = caseless("transfer-encoding");
const CONNECTION = caseless("connection");
const CLOSE = caseless("close");
const KEEP_ALIVE = caseless("keep-alive");

function matches(
  buf: Uint8Array,
  start: number,
  end: number,
  name: { lower: Uint8Array; upper: Uint8Array },
): boolean {
  const n = name.lower.length;
  if (end - start !== n) return false;
  for (let k = 0; k < n; k++) {
    const b = buf[start + k];
    if (b !== name.lower[k] && b !== name.upper[k]) return false;
  }
  return true;
}

const isOws = (b: number | undefined) => b === SP || b === HT;

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

/** How the connection ended, from the parser's point of view (see {@link ResponseParser.eof}). */
export type EofOutcome = "complete" | "empty" | "truncated";

/** Limits for {@link ResponseParser}. */
export interface ParserOptions {
  /** Largest status line + header section (and trailer section), in bytes. */
  maxHeaderBytes?: number;
}

/**
 * A streaming HTTP/1.x response parser. Call {@link reset} before each response, then
 * {@link feed} bytes as they arrive; it stops right after a complete response (so pipelined
 * bytes stay with the caller) and sets {@link complete}. Throws {@link MalformedResponseError}.
 */
export class ResponseParser {
  /** Status code of the current response (valid once the status line is in). */
  status = 0;
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  /** True once a whole response has been parsed. */
  complete = false;
  /** Bytes of the current response seen so far; 0 means the server sent nothing yet. */
  bytesSeen = 0;

  #state = STATUS;
  #noBody = false;
  #remaining = 0;
  #line = new Uint8Array(256);
  #lineLen = 0;
  #sectionBytes = 0;
  #maxHeaderBytes: number;
  #contentLength = -1;
  #transferEncoding = false;
  #chunked = false;
  #http10 = false;
  #connectionClose = false;
  #connectionKeepAlive = false;

  constructor(options: ParserOptions = {}) {
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 65_536;
  }

  /** Prepares for the next response; `headRequest` means it answers HEAD and has no body. */
  reset(headRequest = false): void {
    this.status = 0;
    this.keepAlive = true;
    this.complete = false;
    this.bytesSeen = 0;
    this.#noBody = headRequest;
    this.#startMessage();
  }

  #startMessage(): void {
    this.#state = STATUS;
    this.#lineLen = 0;
    this.#sectionBytes = 0;
    this.#contentLength = -1;
    this.#transferEncoding = false;
    this.#chunked = false;
    this.#http10 = false;
    this.#connectionClose = false;
    this.#connectionKeepAlive = false;
  }

  /**
   * Consumes `buf[start..end)` and returns the index it stopped at: `end`, or the byte after a
   * complete response (then {@link complete} is true and the rest belongs to the next response).
   */
  feed(buf: Uint8Array, start: number, end: number): number {
    if (this.complete) throw new Error("ResponseParser.feed() after a complete response");
    let i = start;
    while (i < end) {
      const state = this.#state;
      if (state === BODY_LENGTH || state === CHUNK_DATA) {
        const n = Math.min(this.#remaining, end - i);
        i += n;
        this.#remaining -= n;
        if (this.#remaining === 0) {
          if (state === BODY_LENGTH) this.#finish();
          else this.#state = CHUNK_DATA_END;
        }
      } else if (state === BODY_UNTIL_CLOSE) {
        i = end;
      } else if (state === DONE) {
        break;
      } else {
        // A line state: find the line's end; a line split across reads is kept in #line.
        // A plain loop: lines are short, and it never looks past `end` into stale bytes.
        let lf = i;
        while (lf < end && buf[lf] !== LF) lf++;
        if (lf === end) lf = -1;
        const stop = lf === -1 ? end : lf;
        this.#sectionBytes += stop - i + 1;
        if (this.#sectionBytes > this.#maxHeaderBytes) this.#tooLong();
        if (lf === -1) {
          this.#keep(buf, i, end);
          i = end;
          break;
        }
        if (this.#lineLen > 0) {
          this.#keep(buf, i, lf);
          i = lf + 1;
          const len = this.#lineLen;
          this.#lineLen = 0;
          this.#onLine(this.#line, 0, len);
        } else {
          const from = i;
          i = lf + 1;
          this.#onLine(buf, from, lf);
        }
      }
      if (this.complete) break;
    }
    this.bytesSeen += i - start;
    return i;
  }

  /** Tells the parser the peer closed the connection, and says what that means. */
  eof(): EofOutcome {
    if (this.complete) return "complete";
    if (this.#state === BODY_UNTIL_CLOSE) {
      this.#finish();
      this.keepAlive = false;
      return "complete";
    }
    return this.bytesSeen === 0 ? "empty" : "truncated";
  }

  #keep(buf: Uint8Array, from: number, to: number): void {
    const need = this.#lineLen + (to - from);
    if (need > this.#line.length) {
      const bigger = new Uint8Array(Math.max(need, this.#line.length * 2));
      bigger.set(this.#line.subarray(0, this.#lineLen));
      this.#line = bigger;
    }
    this.#line.set(buf.subarray(from, to), this.#lineLen);
    this.#lineLen = need;
  }

  #tooLong(): never {
    const what = this.#state === CHUNK_SIZE || this.#state === CHUNK_DATA_END
      ? "chunk size line"
      : this.#state === TRAILER
      ? "trailer section"
      : "status line and headers";
    throw new MalformedResponseError(`${what} longer than ${this.#maxHeaderBytes} bytes`);
  }

  #finish(): void {
    this.#state = DONE;
    this.complete = true;
  }

  #onLine(buf: Uint8Array, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    switch (this.#state) {
      case STATUS:
        if (end > start) this.#statusLine(buf, start, end);
        return; // empty lines before a status line are tolerated
      case HEADER:
        if (end === start) this.#endOfHeaders();
        else this.#headerLine(buf, start, end);
        return;
      case CHUNK_SIZE:
        this.#chunkSizeLine(buf, start, end);
        return;
      case CHUNK_DATA_END:
        if (end !== start) {
          throw new MalformedResponseError("chunk data is longer than its declared size");
        }
        this.#state = CHUNK_SIZE;
        this.#sectionBytes = 0;
        return;
      case TRAILER:
        if (end === start) this.#finish();
        else if (!(buf.indexOf(COLON, start) > start && buf.indexOf(COLON, start) < end)) {
          throw new MalformedResponseError("trailer line without a field name and colon");
        }
        return;
    }
  }

  #statusLine(buf: Uint8Array, s: number, e: number): void {
    // "HTTP/1.x SSS[ reason]"
    const ok = e - s >= 12 && buf[s] === 72 && buf[s + 1] === 84 && buf[s + 2] === 84 &&
      buf[s + 3] === 80 && buf[s + 4] === 47 && buf[s + 5] === 49 && buf[s + 6] === 46 &&
      (buf[s + 7] === 48 || buf[s + 7] === 49) && buf[s + 8] === SP &&
      (e - s === 12 || buf[s + 12] === SP);
    const d1 = (buf[s + 9] ?? 0) - 48;
    const d2 = (buf[s + 10] ?? 0) - 48;
    const d3 = (buf[s + 11] ?? 0) - 48;
    if (!ok || d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) {
      const text = new TextDecoder().decode(buf.subarray(s, Math.min(e, s + 40)));
      throw new MalformedResponseError(`invalid status line "${text}"`);
    }
    this.status = d1 * 100 + d2 * 10 + d3;
    this.#http10 = buf[s + 7] === 48;
    this.#state = HEADER;
  }

  #headerLine(buf: Uint8Array, s: number, e: number): void {
    if (isOws(buf[s])) throw new MalformedResponseError("obsolete header line folding");
    // Names are short: a plain loop beats a call into indexOf here (this runs per header line).
    let colon = s;
    while (colon < e && buf[colon] !== COLON) colon++;
    if (colon === e) colon = -1;
    if (colon <= s) throw new MalformedResponseError("header line without a field name and colon");
    if (isOws(buf[colon - 1])) {
      throw new MalformedResponseError("whitespace between a header name and its colon");
    }
    const nameLen = colon - s;
    if (nameLen !== 10 && nameLen !== 14 && nameLen !== 17) return; // none of ours
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && isOws(buf[vs])) vs++;
    while (ve > vs && isOws(buf[ve - 1])) ve--;
    if (matches(buf, s, colon, CONTENT_LENGTH)) this.#contentLengthValue(buf, vs, ve);
    else if (matches(buf, s, colon, CONNECTION)) this.#connectionValue(buf, vs, ve);
    else if (matches(buf, s, colon, TRANSFER_ENCODING)) {
      const codings = new TextDecoder().decode(buf.subarray(vs, ve)).toLowerCase().split(",");
      const last = codings[codings.length - 1]?.trim() ?? "";
      this.#transferEncoding = true;
      this.#chunked = last === "chunked";
    }
  }

  #contentLengthValue(buf: Uint8Array, s: number, e: number): void {
    // One value, or a list of identical ones ("42, 42") as RFC 9110 8.6 allows.
    let value = -1;
    let i = s;
    while (i < e) {
      let n = 0;
      let digits = 0;
      while (i < e && buf[i]! >= 48 && buf[i]! <= 57) {
        n = n * 10 + buf[i]! - 48;
        digits++;
        i++;
      }
      if (digits === 0 || digits > 15 || (value !== -1 && n !== value)) {
        throw new MalformedResponseError("invalid Content-Length");
      }
      value = n;
      while (i < e && isOws(buf[i])) i++;
      if (i < e) {
        if (buf[i] !== COMMA) throw new MalformedResponseError("invalid Content-Length");
        i++;
        while (i < e && isOws(buf[i])) i++;
      }
    }
    if (value === -1 || (this.#contentLength !== -1 && this.#contentLength !== value)) {
      throw new MalformedResponseError("invalid or conflicting Content-Length");
    }
    this.#contentLength = value;
  }

  #connectionValue(buf: Uint8Array, s: number, e: number): void {
    if (matches(buf, s, e, CLOSE)) this.#connectionClose = true;
    else if (matches(buf, s, e, KEEP_ALIVE)) this.#connectionKeepAlive = true;
    else {
      for (const token of new TextDecoder().decode(buf.subarray(s, e)).split(",")) {
        const t = token.trim().toLowerCase();
        if (t === "close") this.#connectionClose = true;
        else if (t === "keep-alive") this.#connectionKeepAlive = true;
      }
    }
  }

  #endOfHeaders(): void {
    const status = this.status;
    if (status < 200) {
      if (status === 101) {
        throw new MalformedResponseError("unexpected 101 Switching Protocols");
      }
      this.#startMessage(); // an interim response (100 Continue, 103 ...): the real one follows
      return;
    }
    this.keepAlive = this.#http10
      ? this.#connectionKeepAlive && !this.#connectionClose
      : !this.#connectionClose;
    if (this.#noBody || status === 204 || status === 304) {
      this.#finish();
    } else if (this.#transferEncoding) {
      if (this.#chunked) {
        this.#state = CHUNK_SIZE;
        this.#sectionBytes = 0;
      } else {
        this.#untilClose();
      }
    } else if (this.#contentLength > 0) {
      this.#state = BODY_LENGTH;
      this.#remaining = this.#contentLength;
    } else if (this.#contentLength === 0) {
      this.#finish();
    } else {
      this.#untilClose();
    }
  }

  #untilClose(): void {
    this.#state = BODY_UNTIL_CLOSE;
    this.keepAlive = false;
  }

  #chunkSizeLine(buf: Uint8Array, s: number, e: number): void {
    let size = 0;
    let i = s;
    while (i < e) {
      const v = hexValue(buf[i]!);
      if (v < 0) break;
      size = size * 16 + v;
      i++;
    }
    const digits = i - s;
    // Anything after the size must be an extension (";name=value") or whitespace before one.
    while (i < e && isOws(buf[i])) i++;
    if (digits === 0 || digits > 13 || (i < e && buf[i] !== SEMICOLON)) {
      throw new MalformedResponseError("invalid chunk size line");
    }
    this.#sectionBytes = 0;
    if (size === 0) {
      this.#state = TRAILER;
    } else {
      this.#state = CHUNK_DATA;
      this.#remaining = size;
    }
  }
}
