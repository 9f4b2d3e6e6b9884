/**
 * Request bodies over the cap: a real server (`Deno.serve` of the orchestrator's app) and a raw
 * TCP client streaming a 600 MB body generated as it goes, with its length declared or chunked.
 * The answer is 413 in the API's error shape long before 600 MB could be sent — the client counts
 * the bytes it managed to write before the answer — and the server goes on serving.
 */
import assert from "node:assert/strict";
import { MAX_BODY_BYTES } from "../../orchestrator/body_limit.ts";
import { AUTH, TEST_API_TOKEN } from "../support/api_json.ts";
import { AVALANCHE, call, createHarness, HARNESS_ACCESS } from "./harness.ts";

const TOTAL_BYTES = 600 * 1000 * 1000;
const CHUNK = new Uint8Array(64 * 1024).fill(0x20); // spaces: valid JSON padding, were it read
/**
 * What may be written before the answer besides the cap itself: the kernel's socket buffers on
 * both sides of a loopback connection (at most a few MiB each by tcp_wmem/tcp_rmem) and the
 * server's read buffer. 32 MiB is far above that and far below 600 MB.
 */
const SLACK_BYTES = 32 * 1024 * 1024;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** Body bytes the client had written when the answer was complete. */
  written: number;
}

/** Reads one HTTP response off `conn`: status and JSON body (Content-Length framed). */
async function readAnswer(conn: Deno.Conn): Promise<{ status: number; body: string }> {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(16 * 1024);
  let text = "";
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`connection closed mid-answer: ${JSON.stringify(text)}`);
    text += decoder.decode(buf.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
    if (text.length - end - 4 < length) continue;
    return { status: Number(text.split(" ")[1]), body: text.slice(end + 4, end + 4 + length) };
  }
}

/** Writes all of `bytes` (a socket write may take only part of them). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

/** POSTs a 600 MB body, generated chunk by chunk while it is sent, until the answer arrives. */
async function postHuge(port: number, chunked: boolean): Promise<Answer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  let written = 0;
  let answered = false;
  const head = `POST /api/tests HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
    `authorization: Bearer ${TEST_API_TOKEN}\r\n` +
    (chunked ? "transfer-encoding: chunked\r\n\r\n" : `content-length: ${TOTAL_BYTES}\r\n\r\n`);
  const send = (async () => {
    await writeAll(conn, encoder.encode(head));
    const frameHead = encoder.encode(`${CHUNK.length.toString(16)}\r\n`);
    const frameTail = encoder.encode("\r\n");
    while (!answered && written < TOTAL_BYTES) {
      if (chunked) await writeAll(conn, frameHead);
      await writeAll(conn, CHUNK);
      if (chunked) await writeAll(conn, frameTail);
      written += CHUNK.length;
    }
  })().catch(() => {}); // the server may close the connection under the writer: that is fine
  try {
    const { status, body } = await readAnswer(conn);
    answered = true;
    return { status, body: JSON.parse(body), written };
  } finally {
    answered = true;
    conn.close();
    await send;
  }
}

for (const chunked of [false, true]) {
  const how = chunked ? "chunked" : "declared in Content-Length";
  Deno.test(`a 600 MB body (${how}) is refused with 413 before it is read; the server stays up`, async () => {
    // Any Host: this real server's port is picked by the system (the Host rule has its own tests).
    const h = await createHarness({
      app: { access: { ...HARNESS_ACCESS, servesHost: () => true } },
    });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, h.app.fetch);
    try {
      const started = performance.now();
      const answer = await postHuge(server.addr.port, chunked);
      const ms = performance.now() - started;
      console.log(
        `413 after ${(answer.written / 2 ** 20).toFixed(1)} MiB written, ${ms.toFixed(0)} ms`,
      );
      assert.equal(answer.status, 413, JSON.stringify(answer.body));
      assert.match(String(answer.body.error), /too large.*8 MiB/);
      assert.ok(
        answer.written <= MAX_BODY_BYTES + SLACK_BYTES,
        `${answer.written} bytes written before the answer`,
      );
      // The same server still answers, and a normal body is still read.
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/tests`, { headers: AUTH });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      await server.shutdown();
      await h.close();
    }
  });
}

Deno.test("a body just under the cap is read and validated (400 naming the field), not refused", async () => {
  const h = await createHarness();
  try {
    // A 7 MiB `body` field: bigger than the schema allows, smaller than the cap, so the answer
    // names the field instead of refusing the request unread.
    const res = await call(h.app, "POST", "/api/tests", {
      ...AVALANCHE,
      body: "x".repeat(7 * 2 ** 20),
    });
    assert.equal(res.status, 400);
    assert.deepEqual((res.body.problems as { field: string }[]).map((p) => p.field), ["body"]);
    const fits = await call(h.app, "POST", "/api/tests", { ...AVALANCHE, connections: 10_001 });
    assert.equal(fits.status, 400);
    assert.deepEqual((fits.body.problems as { field: string }[]).map((p) => p.field), [
      "connections",
    ]);
  } finally {
    await h.close();
  }
});
