import assert from "node:assert/strict";
import { TlsHandshakeError } from "../../driver/dial.ts";
import { classifyError } from "../../driver/errors.ts";
import { MalformedResponseError } from "../../driver/http1.ts";

Deno.test("classifyError() names each culprit", () => {
  const table: [string, unknown, boolean, string][] = [
    ["refused", new Deno.errors.ConnectionRefused("refused"), true, "connect_refused"],
    ["timed out", new Deno.errors.TimedOut("timed out"), true, "timeout"],
    ["tls", new TlsHandshakeError("invalid peer certificate"), true, "tls"],
    [
      "dns (Deno's own words)",
      new Error("failed to lookup address information: Name or service not known"),
      true,
      "dns",
    ],
    ["EMFILE", new Error("Too many open files (os error 24)"), true, "fd_limit"],
    ["EMFILE on a socket", new Error("os error 24"), false, "fd_limit"],
    ["reset", new Deno.errors.ConnectionReset("reset"), false, "reset"],
    ["broken pipe", new Deno.errors.BrokenPipe("pipe"), false, "reset"],
    ["eof mid-read", new Deno.errors.UnexpectedEof("eof"), false, "closed"],
    ["bad bytes", new MalformedResponseError("bad status line"), false, "malformed"],
    ["unknown while connecting", new Error("no route to host"), true, "connect_refused"],
    ["unknown on a socket", new Error("something else"), false, "other"],
  ];
  for (const [name, err, connecting, kind] of table) {
    assert.equal(classifyError(err, connecting), kind, name);
  }
});
