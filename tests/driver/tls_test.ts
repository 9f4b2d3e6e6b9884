/**
 * https targets on real sockets: a self-signed target the engine is told to trust, one it is not,
 * and a listener that accepts TCP but never completes a TLS handshake (the timeout must cut it).
 */
import assert from "node:assert/strict";
import { type PoolReport, startTest } from "../../driver/pool.ts";
import type { LoadSpec } from "../../driver/worker_protocol.ts";
import { summarize } from "../../shared/histogram.ts";
import { assertBalanced } from "./balance.ts";

function spec(url: string, over: Partial<LoadSpec> = {}): LoadSpec {
  return {
    url,
    method: "GET",
    connections: 2,
    count: 50,
    durationMs: null,
    intervalMs: 0,
    timeoutMs: 5000,
    ...over,
  };
}

const run = (s: LoadSpec): Promise<PoolReport> => startTest(s, { workers: 1, reportMs: 200 }).done;

/** A fresh self-signed certificate for 127.0.0.1, made with openssl in a temp dir. */
async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "surge-tls-" });
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("https: a trusted self-signed target answers every request; an untrusted one is tls errors", async () => {
  const { cert, key } = await selfSigned();
  let received = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen: () => {} },
    () => {
      received++;
      return new Response("pong");
    },
  );
  try {
    const url = `https://127.0.0.1:${server.addr.port}/ping`;
    const trusted = await run(spec(url, { caCerts: [cert] }));
    assertBalanced(trusted);
    assert.deepEqual(trusted.errorKinds, {});
    assert.deepEqual(trusted.statusCodes, { "200": 50 });
    assert.equal(received, 50);
    const untrusted = await run(spec(url, { count: 4 }));
    assertBalanced(untrusted);
    assert.deepEqual(untrusted.errorKinds, { tls: 4 });
    assert.equal(received, 50, "no request reached the server without a handshake");
  } finally {
    await server.shutdown();
  }
});

Deno.test("https to a listener that never completes the handshake times out at timeout_ms", async () => {
  // Accepts TCP and then says nothing: a black hole for TLS.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const r = await run(spec(`https://127.0.0.1:${port}/`, { count: 2, timeoutMs: 1000 }));
    assertBalanced(r);
    assert.deepEqual(r.errorKinds, { timeout: 2 });
    // Each failed at its 1 s timeout (plus at most one 50 ms sweep), not the OS's minutes.
    const s = summarize(r.histogram);
    assert.ok(s.min >= 1000 && s.max < 3000, JSON.stringify(s));
  } finally {
    listener.close();
    for (const c of held) c.close();
    await accepting;
  }
});
