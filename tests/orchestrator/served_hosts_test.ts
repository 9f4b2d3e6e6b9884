import assert from "node:assert/strict";
import {
  announcedUrl,
  isLoopback,
  isServedOrigin,
  localUrl,
  parseHostPort,
  servedHosts,
} from "../../orchestrator/served_hosts.ts";

Deno.test("parseHostPort() reads name[:port] and [v6][:port]; anything else is undefined", () => {
  const table: [string, ReturnType<typeof parseHostPort>][] = [
    ["127.0.0.1:8000", { name: "127.0.0.1", port: 8000 }],
    ["Surge.Example.COM", { name: "surge.example.com" }],
    ["[::1]:8000", { name: "::1", port: 8000 }],
    ["[FD00::1]", { name: "fd00::1" }],
    ["::1", undefined],
    ["host:0", undefined],
    ["host:65536", undefined],
    ["http://host", undefined],
    ["host/path", undefined],
    ["a b", undefined],
    ["", undefined],
  ];
  for (const [text, want] of table) assert.deepEqual(parseHostPort(text), want, text);
});

Deno.test("isLoopback(): 127.0.0.0/8, ::1 and localhost only", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost"]) {
    assert.equal(isLoopback(host), true, host);
  }
  for (const host of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.example", "::2"]) {
    assert.equal(isLoopback(host), false, host);
  }
});

Deno.test("servedHosts(): the bind address and loopback names at the port, and --public-host", () => {
  let port = 8000;
  const serves = servedHosts("10.0.0.5", () => port, [
    { name: "surge.example.com" },
    { name: "lb.example", port: 443 },
  ]);
  const table: [string, boolean][] = [
    ["10.0.0.5:8000", true],
    ["127.0.0.1:8000", true],
    ["localhost:8000", true],
    ["[::1]:8000", true],
    ["127.0.0.1:8080", false], // another server on this host: another origin
    ["127.0.0.1", false], // no port means 80
    ["10.0.0.6:8000", false],
    ["evil.example:8000", false],
    ["surge.example.com", true], // behind a proxy on 80 or 443
    ["surge.example.com:8000", true],
    ["surge.example.com:9000", false],
    ["lb.example:443", true],
    ["lb.example", false],
    ["lb.example:8000", false],
    ["not a host", false],
  ];
  for (const [host, want] of table) assert.equal(serves(host), want, host);
  // The port is read on each request: with --port 0 it is known only once the server listens.
  port = 80;
  assert.equal(serves("127.0.0.1"), true);
  assert.equal(serves("127.0.0.1:8000"), false);
});

Deno.test("servedHosts(): a wildcard bind answers for loopback names, not for 0.0.0.0", () => {
  const serves = servedHosts("0.0.0.0", () => 8000);
  assert.equal(serves("127.0.0.1:8000"), true);
  assert.equal(serves("0.0.0.0:8000"), false);
  assert.equal(serves("192.168.1.20:8000"), false);
});

Deno.test("isServedOrigin(): http(s) origins of served hosts only", () => {
  const serves = servedHosts("127.0.0.1", () => 8000, [{ name: "surge.example.com" }]);
  const table: [string, boolean][] = [
    ["http://127.0.0.1:8000", true],
    ["http://localhost:8000", true],
    ["https://surge.example.com", true],
    ["http://127.0.0.1:8080", false],
    ["http://evil.example", false],
    ["null", false],
    ["file://", false],
    ["ftp://127.0.0.1:8000", false],
  ];
  for (const [origin, want] of table) assert.equal(isServedOrigin(origin, serves), want, origin);
});

Deno.test("localUrl() and announcedUrl(): where this machine and others reach the server", () => {
  assert.equal(localUrl("127.0.0.1", 8000), "http://127.0.0.1:8000");
  assert.equal(localUrl("0.0.0.0", 8000), "http://127.0.0.1:8000");
  assert.equal(localUrl("::", 8000), "http://[::1]:8000");
  assert.equal(localUrl("10.0.0.5", 8000), "http://10.0.0.5:8000");
  assert.equal(announcedUrl("0.0.0.0", 8000, []), "http://127.0.0.1:8000");
  assert.equal(announcedUrl("10.0.0.5", 8000, []), "http://10.0.0.5:8000");
  assert.equal(
    announcedUrl("0.0.0.0", 8000, [{ name: "surge.example.com" }, { name: "b" }]),
    "http://surge.example.com:8000",
  );
  assert.equal(
    announcedUrl("0.0.0.0", 8000, [{ name: "fd00::1", port: 80 }]),
    "http://[fd00::1]:80",
  );
});
