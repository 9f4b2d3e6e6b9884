/**
 * HTTP servers for the driver's integration tests, all on 127.0.0.1 with a free port: the real
 * target app, and raw TCP servers that misbehave in precise ways.
 */
import { createTargetApp, type TargetCounters } from "../../target/app.ts";

/** A running server; `close()` in every test. */
export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** The real target (Hono on Deno.serve). */
export function serveTarget(): TestServer & { counters: TargetCounters } {
  const { app, counters } = createTargetApp();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    counters,
    close: () => server.shutdown(),
  };
}

const HEAD_END = new TextEncoder().encode("\r\n\r\n");

function indexOfSeq(buf: Uint8Array, end: number, seq: Uint8Array): number {
  outer: for (let i = 0; i + seq.length <= end; i++) {
    for (let k = 0; k < seq.length; k++) if (buf[i + k] !== seq[k]) continue outer;
    return i;
  }
  return -1;
}

/** What {@link serveRaw} does with one request. */
export interface RawReply {
  /** The bytes to answer with; absent: answer nothing. */
  bytes?: Uint8Array | string;
  /** Wait this long before answering (or closing). */
  delayMs?: number;
  /** Close the connection after answering (without reading anything more). */
  close?: boolean;
}

/** Options of {@link serveRaw}. */
export interface RawOptions {
  /** Close a keep-alive connection that stays idle this long (as Node's keepAliveTimeout does). */
  idleCloseMs?: number;
}

/**
 * A raw keep-alive server over Deno.listen. For each request (no body expected) it calls
 * `respond(n)` with the server-wide request number (counted when the request's head has been
 * read) and does what the reply says.
 */
export function serveRaw(
  respond: (n: number) => RawReply,
  options: RawOptions = {},
): TestServer & { requests(): number; idleCloses(): number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let requests = 0;
  let idleCloses = 0;
  const handle = async (conn: Deno.Conn) => {
    conns.add(conn);
    const buf = new Uint8Array(65536);
    let have = 0;
    try {
      for (;;) {
        let at = indexOfSeq(buf, have, HEAD_END);
        while (at === -1) {
          let idle: ReturnType<typeof setTimeout> | undefined;
          if (have === 0 && options.idleCloseMs !== undefined) {
            idle = setTimeout(() => {
              idleCloses++;
              conn.close();
            }, options.idleCloseMs);
          }
          const n = await conn.read(buf.subarray(have)).finally(() => clearTimeout(idle));
          if (n === null) return;
          have += n;
          at = indexOfSeq(buf, have, HEAD_END);
        }
        buf.copyWithin(0, at + 4, have);
        have -= at + 4;
        const reply = respond(++requests);
        if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
        if (reply.bytes !== undefined) {
          const bytes = typeof reply.bytes === "string"
            ? new TextEncoder().encode(reply.bytes)
            : reply.bytes;
          let written = 0;
          while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        }
        if (reply.close || reply.bytes === undefined) return;
      }
    } catch {
      // The client went away; nothing to clean up beyond the close below.
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const h = handle(conn);
        handlers.add(h);
        h.finally(() => handlers.delete(h));
      }
    } catch { /* listener closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests: () => requests,
    idleCloses: () => idleCloses,
    close: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await accepting;
      await Promise.allSettled([...handlers]);
    },
  };
}
