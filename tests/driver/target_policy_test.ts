import assert from "node:assert/strict";
import { format, parseIp, parseNetwork } from "../../driver/ip_address.ts";
import {
  checkTarget,
  DEFAULT_POLICY,
  parseTargetPolicy,
  parseTargetRule,
  type TargetPolicy,
} from "../../driver/target_policy.ts";

Deno.test("parseIp() reads addresses strictly and unwraps the IPv6 forms of IPv4 ones", () => {
  const rows: [string, string | undefined][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["169.254.169.254", "169.254.169.254"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["fd00:ec2::254", "fd00:ec2::254"],
    ["FD00:0EC2:0:0:0:0:0:0254", "fd00:ec2::254"],
    ["::ffff:169.254.169.254", "169.254.169.254"],
    ["::ffff:a9fe:a9fe", "169.254.169.254"],
    ["64:ff9b::a9fe:a9fe", "169.254.169.254"],
    ["fe80::1%eth0", "fe80::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::", "::"],
    ["010.0.0.1", undefined], // octal to some readers
    ["256.0.0.1", undefined],
    ["1.2.3", undefined],
    ["1::2::3", undefined],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["12345::", undefined],
    ["example.com", undefined],
  ];
  for (const [text, want] of rows) {
    const address = parseIp(text);
    assert.equal(address === undefined ? undefined : format(address), want, text);
  }
});

Deno.test("parseNetwork() refuses host bits and bad prefixes, and maps ::ffff:0:0/96 to IPv4", () => {
  const rows: [string, string][] = [
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.0.0.1", "10.0.0.1/32"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["fd00::/8", "fd00::/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["10.0.0.1/8", "has host bits set (did you mean 10.0.0.0/8?)"],
    ["10.0.0.0/33", "has a prefix length over 32"],
    ["10.0.0.0/08", 'has a bad prefix length "/08"'],
    ["fe80::1%eth0", "is not an address or a network"],
  ];
  for (const [text, want] of rows) {
    const network = parseNetwork(text);
    const got = typeof network === "string" ? network : `${format(network)}/${network.prefix}`;
    assert.equal(got, want, text);
  }
});

Deno.test("parseTargetPolicy() reads hosts, wildcards, networks and ports, naming each bad entry", () => {
  const rules = (texts: string[]) => {
    const policy = parseTargetPolicy(texts);
    return Array.isArray(policy)
      ? policy
      : policy.rules.map((r) => `${r.kind}${r.ports ? ` ${r.ports.first}-${r.ports.last}` : ""}`);
  };
  const rows: [string[], string[]][] = [
    [[], []],
    [[""], []],
    [["api.example.com"], ["host"]],
    [["*.example.com:443"], ["host 443-443"]],
    [["10.0.0.0/8:8000-8100"], ["network 8000-8100"]],
    [["[::1]:8080", "::1", "[fd00::]/8:443"], ["network 8080-8080", "network", "network 443-443"]],
    [["127.0.0.1, localhost:8080 10.1.2.3"], ["network", "host 8080-8080", "network"]],
    [["x:0"], ['"x:0" has a bad port "0": expected N or N-M, 1-65535']],
    [["x:9-8"], ['"x:9-8" has a bad port "9-8": expected N or N-M, 1-65535']],
    [["host:"], ['"host:" has a bad port "": expected N or N-M, 1-65535']],
    [["bad_host!"], ['"bad_host!" is not a host name, an address or a network']],
    [["1.2.3"], ['"1.2.3" is not an address or a network']],
    [["example.123"], ['"example.123" is not a valid IPv4 address']],
    [["ok.com", "10.0.0.1/8", "a..b"], [
      '"10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)',
      '"a..b" is not a host name, an address or a network',
    ]],
  ];
  for (const [texts, want] of rows) assert.deepEqual(rules(texts), want, texts.join(" "));
  assert.equal(typeof parseTargetRule("*.Example.COM."), "object");
});

const policy = (...entries: string[]): TargetPolicy => {
  const parsed = parseTargetPolicy(entries);
  if (Array.isArray(parsed)) throw new Error(parsed.join("; "));
  return parsed;
};

Deno.test("checkTarget(): metadata and link-local are refused by default, the rest allowed", () => {
  // [policy, host, port, resolved addresses, refusal (a part of its reason) or "allowed"]
  const rows: [TargetPolicy, string, number, string[], string][] = [
    [DEFAULT_POLICY, "127.0.0.1", 8080, ["127.0.0.1"], "allowed"],
    [DEFAULT_POLICY, "example.com", 80, ["93.184.215.14", "2606:2800:21f:cb07::1"], "allowed"],
    [DEFAULT_POLICY, "169.254.169.254", 80, ["169.254.169.254"], "is in 169.254.0.0/16"],
    [DEFAULT_POLICY, "169.254.0.1", 80, ["169.254.0.1"], "is in 169.254.0.0/16"],
    [DEFAULT_POLICY, "fd00:ec2::254", 80, ["fd00:ec2::254"], "AWS instance metadata"],
    [DEFAULT_POLICY, "fe80::1", 80, ["fe80::1"], "IPv6 link-local"],
    [DEFAULT_POLICY, "::ffff:a9fe:a9fe", 80, ["::ffff:a9fe:a9fe"], "(169.254.169.254) is in"],
    [DEFAULT_POLICY, "64:ff9b::a9fe:a9fe", 80, ["64:ff9b::a9fe:a9fe"], "is in 169.254"],
    // A name is judged by what it resolves to: every address, not the first only.
    [DEFAULT_POLICY, "metadata.example", 80, ["169.254.169.254"], "metadata.example (169."],
    [DEFAULT_POLICY, "rebind.example", 80, ["10.0.0.1", "169.254.169.254"], "is in 169.254"],
    [DEFAULT_POLICY, "nothing.example", 80, [], "resolved to no address"],
    [DEFAULT_POLICY, "odd.example", 80, ["not-an-ip"], 'resolved to "not-an-ip"'],
    // An allow-list: only what it lists.
    [policy("10.0.0.0/8"), "10.1.2.3", 80, ["10.1.2.3"], "allowed"],
    [policy("10.0.0.0/8"), "127.0.0.1", 80, ["127.0.0.1"], "127.0.0.1:80 is not in the allow-list"],
    [policy("10.0.0.0/8"), "svc.internal", 80, ["10.0.0.5"], "allowed"],
    [policy("10.0.0.0/8"), "svc.internal", 80, ["10.0.0.5", "192.0.2.1"], "(10.0.0.5, 192.0.2.1)"],
    [policy("10.0.0.0/8:443"), "10.0.0.5", 80, ["10.0.0.5"], "is not in the allow-list"],
    [policy("127.0.0.1:8000-8100"), "127.0.0.1", 8100, ["127.0.0.1"], "allowed"],
    [policy("127.0.0.1:8000-8100"), "127.0.0.1", 8101, ["127.0.0.1"], "is not in the allow-list"],
    [policy("::1"), "::1", 80, ["::1"], "allowed"],
    [policy("[::1]:80"), "::1", 81, ["::1"], "[::1]:81 is not in the allow-list"],
    [policy("10.0.0.0/8"), "::ffff:a00:1", 80, ["::ffff:a00:1"], "allowed"],
    [policy("api.example.com"), "api.example.com", 443, ["192.0.2.7"], "allowed"],
    [policy("api.example.com"), "API.example.com.", 443, ["192.0.2.7"], "allowed"],
    [policy("api.example.com"), "www.example.com", 443, ["192.0.2.7"], "is not in the allow-list"],
    [policy("*.example.com"), "a.b.example.com", 80, ["192.0.2.7"], "allowed"],
    [policy("*.example.com"), "example.com", 80, ["192.0.2.7"], "is not in the allow-list"],
    [policy("*.example.com"), "badexample.com", 80, ["192.0.2.7"], "is not in the allow-list"],
    [policy("*.example.com:443"), "a.example.com", 80, ["192.0.2.7"], "is not in the allow-list"],
    // A listed name still may not resolve into a denied network; a broad network does not lift it.
    [policy("api.example.com"), "api.example.com", 80, ["169.254.169.254"], "is in 169.254"],
    [policy("0.0.0.0/0"), "169.254.169.254", 80, ["169.254.169.254"], "is in 169.254"],
    [policy("fd00::/8"), "fd00:ec2::254", 80, ["fd00:ec2::254"], "AWS instance metadata"],
    // Only a deliberate entry inside the denied network lifts it, on its ports.
    [policy("169.254.169.254"), "169.254.169.254", 80, ["169.254.169.254"], "allowed"],
    [policy("169.254.169.254:8080"), "169.254.169.254", 80, ["169.254.169.254"], "is in 169.254"],
    [policy("169.254.10.0/24"), "169.254.169.254", 80, ["169.254.169.254"], "is in 169.254"],
    [policy("fd00:ec2::254"), "fd00:ec2::254", 80, ["fd00:ec2::254"], "allowed"],
  ];
  for (const [rules, host, port, addresses, want] of rows) {
    const verdict = checkTarget(rules, { host, port, addresses });
    const got = verdict.allowed ? "allowed" : verdict.reason;
    const name = `${rules.rules.map((r) => r.text).join(",") || "default"} → ${host}:${port}`;
    assert.ok(want === "allowed" ? got === "allowed" : got.includes(want), `${name}: ${got}`);
  }
});
