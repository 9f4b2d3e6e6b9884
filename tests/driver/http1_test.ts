import assert from "node:assert/strict";
import { type EofOutcome, MalformedResponseError, ResponseParser } from "../../driver/http1.ts";
import { buildRequest } from "../../driver/http1_request.ts";

const enc = (s: string) => new TextEncoder().encode(s);

interface Parsed {
  responses: { status: number; keepAlive: boolean }[];
  eof: EofOutcome | undefined;
}

/**
 * Feeds `chunks` one read at a time, each read landing in a reused buffer that holds stale bytes
 * after the read's end (as the engine's does), and collects every complete response.
 */
function parseReads(chunks: Uint8Array[], opts: { head?: boolean; eof?: boolean } = {}): Parsed {
  const parser = new ResponseParser({ maxHeaderBytes: 1024 });
  parser.reset(opts.head);
  const buf = new Uint8Array(4096).fill(10); // stale LFs after the read must not be seen
  const responses: Parsed["responses"] = [];
  for (const chunk of chunks) {
    buf.set(chunk, 0);
    let pos = 0;
    while (pos < chunk.length) {
      pos = parser.feed(buf, pos, chunk.length);
      if (parser.complete) {
        responses.push({ status: parser.status, keepAlive: parser.keepAlive });
        parser.reset(opts.head);
      }
    }
  }
  let eof: EofOutcome | undefined;
  if (opts.eof) {
    eof = parser.eof();
    if (eof === "complete") responses.push({ status: parser.status, keepAlive: parser.keepAlive });
  }
  return { responses, eof };
}

/** Every way of cutting `bytes` into two reads, plus one byte per read. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[bytes]];
  for (let cut = 1; cut < bytes.length; cut++) {
    ways.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  }
  ways.push([...bytes].map((b) => Uint8Array.of(b)));
  return ways;
}

const CHUNKED =
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n" +
  '4;name=value;quoted="a;b"\r\npong\r\n' +
  "A\r\n0123456789\r\n" +
  "0 ; last\r\nX-Trailer: yes\r\nX-Checksum: 42\r\n\r\n";

const cases: {
  name: string;
  wire: string;
  head?: boolean;
  eof?: boolean;
  want: { status: number; keepAlive: boolean }[];
  wantEof?: EofOutcome;
}[] = [
  {
    name: "Content-Length body",
    wire: "HTTP/1.1 200 OK\r\ncontent-length: 4\r\ndate: x\r\n\r\npong",
    want: [{ status: 200, keepAlive: true }],
  },
  {
    name: "chunked body with extensions and trailers",
    wire: CHUNKED,
    want: [{ status: 200, keepAlive: true }],
  },
  {
    name: "three pipelined responses in one stream",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n" + CHUNKED,
    want: [
      { status: 200, keepAlive: true },
      { status: 503, keepAlive: true },
      { status: 200, keepAlive: true },
    ],
  },
  {
    name: "204 and 304 have no body even with a Content-Length",
    wire: "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
    want: [{ status: 204, keepAlive: true }, { status: 304, keepAlive: true }],
  },
  {
    name: "HEAD responses have no body",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\n" +
      "Transfer-Encoding: chunked\r\n\r\n",
    head: true,
    want: [{ status: 200, keepAlive: true }, { status: 200, keepAlive: true }],
  },
  {
    name: "interim 100 Continue is skipped",
    wire: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
    want: [{ status: 201, keepAlive: true }],
  },
  {
    name: "Connection: close ends keep-alive",
    wire: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
    want: [{ status: 200, keepAlive: false }],
  },
  {
    name: "Connection token list with close",
    wire: "HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\nContent-Length: 0\r\n\r\n",
    want: [{ status: 200, keepAlive: false }],
  },
  {
    name: "HTTP/1.0 closes unless keep-alive is asked for",
    wire: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx" +
      "HTTP/1.0 200 OK\r\nCONNECTION: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
    want: [{ status: 200, keepAlive: false }, { status: 200, keepAlive: true }],
  },
  {
    name: "body delimited by close",
    wire: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this is the body",
    eof: true,
    want: [{ status: 200, keepAlive: false }],
    wantEof: "complete",
  },
  {
    name: "bare LF line endings and a status line without reason",
    wire: "HTTP/1.1 404\nContent-Length: 3\n\nnop",
    want: [{ status: 404, keepAlive: true }],
  },
  {
    name: "identical Content-Length list",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
    want: [{ status: 200, keepAlive: true }],
  },
  {
    name: "Transfer-Encoding overrides Content-Length",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: 999\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" +
      "1\r\nx\r\n0\r\n\r\n",
    want: [{ status: 200, keepAlive: true }],
  },
  {
    name: "truncated body",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    eof: true,
    want: [],
    wantEof: "truncated",
  },
];

for (const c of cases) {
  Deno.test(`ResponseParser: ${c.name}, split at every byte`, () => {
    for (const reads of splits(enc(c.wire))) {
      const got = parseReads(reads, { head: c.head, eof: c.eof });
      assert.deepEqual(got.responses, c.want, `reads of sizes ${reads.map((r) => r.length)}`);
      assert.equal(got.eof, c.wantEof);
    }
  });
}

const bad: { name: string; wire: string; error: RegExp }[] = [
  { name: "not HTTP", wire: "SSH-2.0-OpenSSH_9.6\r\n", error: /invalid status line/ },
  { name: "HTTP/2 preface", wire: "HTTP/2 200\r\n\r\n", error: /invalid status line/ },
  { name: "two-digit status", wire: "HTTP/1.1 20 OK\r\n\r\n", error: /invalid status line/ },
  { name: "status 099", wire: "HTTP/1.1 099 x\r\n\r\n", error: /invalid status line/ },
  {
    name: "header without colon",
    wire: "HTTP/1.1 200 OK\r\nContent-Length 4\r\n\r\n",
    error: /without a field name/,
  },
  {
    name: "space before colon",
    wire: "HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\n",
    error: /whitespace between/,
  },
  {
    name: "obsolete folding",
    wire: "HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n",
    error: /folding/,
  },
  {
    name: "negative Content-Length",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    error: /Content-Length/,
  },
  {
    name: "conflicting Content-Length headers",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
    error: /Content-Length/,
  },
  {
    name: "Content-Length list that disagrees",
    wire: "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx",
    error: /Content-Length/,
  },
  {
    name: "bad chunk size",
    wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    error: /chunk size/,
  },
  {
    name: "chunk longer than declared",
    wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
    error: /longer than its declared size/,
  },
  {
    name: "chunk size that overflows",
    wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n",
    error: /chunk size/,
  },
  {
    name: "101 Switching Protocols",
    wire: "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    error: /101/,
  },
  {
    name: "headers over the limit",
    wire: "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(2000) + "\r\n\r\n",
    error: /longer than 1024 bytes/,
  },
  {
    name: "endless header line without LF",
    wire: "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(2000),
    error: /longer than 1024 bytes/,
  },
  {
    name: "trailer without colon",
    wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnonsense\r\n\r\n",
    error: /trailer/,
  },
];

for (const c of bad) {
  Deno.test(`ResponseParser rejects ${c.name}, split at every byte`, () => {
    for (const reads of splits(enc(c.wire))) {
      assert.throws(() => parseReads(reads), (err: unknown) => {
        assert.ok(err instanceof MalformedResponseError, String(err));
        assert.match(err.message, c.error);
        return true;
      });
    }
  });
}

Deno.test("ResponseParser.eof() tells an unanswered request from a cut response", () => {
  const parser = new ResponseParser();
  parser.reset();
  assert.equal(parser.eof(), "empty");
  parser.feed(enc("H"), 0, 1);
  assert.equal(parser.eof(), "truncated");
});

Deno.test("ResponseParser stops after each response and leaves the rest to the caller", () => {
  const wire = enc("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 500 Oops\r\n\r\n");
  const parser = new ResponseParser();
  parser.reset();
  const stop = parser.feed(wire, 0, wire.length);
  assert.ok(parser.complete);
  assert.equal(stop, wire.indexOf(72, 1)); // the second "H"
  assert.throws(() => parser.feed(wire, stop, wire.length), /after a complete response/);
});

Deno.test("buildRequest writes the request line, Host, headers and a sized body", () => {
  const text = new TextDecoder().decode(buildRequest({
    method: "POST",
    url: "http://127.0.0.1:8080/ping?delay_ms=1&x=y",
    headers: { "X-Test": "1" },
    body: "héllo",
  }));
  assert.equal(
    text,
    "POST /ping?delay_ms=1&x=y HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Test: 1\r\n" +
      "Content-Length: 6\r\n\r\nhéllo",
  );
  const get = new TextDecoder().decode(
    buildRequest({ method: "GET", url: "https://example.com/", headers: { host: "h" } }),
  );
  assert.equal(get, "GET / HTTP/1.1\r\nhost: h\r\n\r\n");
});

Deno.test("buildRequest refuses what cannot be sent", () => {
  assert.throws(() => buildRequest({ method: "G T", url: "http://a/" }), TypeError);
  assert.throws(() => buildRequest({ method: "GET", url: "ftp://a/" }), TypeError);
  assert.throws(
    () => buildRequest({ method: "GET", url: "http://a/", headers: { "X": "a\r\nb: c" } }),
    TypeError,
  );
  assert.throws(
    () => buildRequest({ method: "GET", url: "http://a/", headers: { "bad name": "v" } }),
    TypeError,
  );
});
