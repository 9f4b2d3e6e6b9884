/**
 * Where a driver may aim: a pure policy over a target's host name, port and resolved addresses.
 *
 * - **Always refused**, whatever the allow-list says about host names: an address in a
 *   {@link DENIED} network — link-local, where clouds serve instance metadata and credentials
 *   (169.254.169.254, fd00:ec2::254) — and the IPv6 forms of such IPv4 addresses. Only an
 *   allow-list entry that is itself an address or network inside the denied one lifts it (a
 *   deliberate `--allow-target 169.254.10.0/24`); `0.0.0.0/0` does not.
 * - **Without an allow-list** everything else is allowed.
 * - **With one**, a target is allowed when an entry matches its host name (`api.example.com`,
 *   `*.example.com`) or every address it resolves to (`10.0.0.0/8`, `::1`), on an allowed port.
 *
 * Entries: `host`, `*.domain`, `a.b.c.d[/n]`, `[v6][/n]` or a bare `v6[/n]`, each with an optional
 * `:port` or `:first-last` (not for a bare IPv6). No entry and no empty list means "default".
 */
import {
  contains,
  format,
  type IpAddress,
  type IpNetwork,
  parseIp,
  parseNetwork,
  within,
} from "./ip_address.ts";

/** Ports an entry allows: all when absent. */
export interface PortRange {
  first: number;
  last: number;
}

/** One allow-list entry. */
export type TargetRule =
  | { kind: "host"; text: string; name: string; wildcard: boolean; ports?: PortRange }
  | { kind: "network"; text: string; network: IpNetwork; ports?: PortRange };

/** The rules a driver applies; no rules is the default policy. */
export interface TargetPolicy {
  rules: readonly TargetRule[];
}

/** The default policy: only {@link DENIED} is refused. */
export const DEFAULT_POLICY: TargetPolicy = Object.freeze({ rules: [] });

/** Networks no target may resolve to unless an entry inside them allows it, and why. */
export const DENIED: readonly { network: IpNetwork; text: string; why: string }[] = [
  ["169.254.0.0/16", "link-local, where clouds serve instance metadata and credentials"],
  ["fe80::/10", "IPv6 link-local"],
  ["fd00:ec2::254", "the AWS instance metadata service over IPv6"],
].map(([text, why]) => ({ network: parseNetwork(text!) as IpNetwork, text: text!, why: why! }));

const HOST_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** `80` or `8000-8100` → the range, or a problem. */
function parsePorts(text: string): PortRange | string {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const first = Number(match?.[1]);
  const last = Number(match?.[2] ?? match?.[1]);
  if (!match || first < 1 || last > 65535 || first > last) {
    return `has a bad port "${text}": expected N or N-M, 1-65535`;
  }
  return { first, last };
}

/** A host name as a URL carries it (lowercase, no trailing dot), optionally `*.`-prefixed. */
function parseHostName(text: string): { name: string; wildcard: boolean } | string {
  const wildcard = text.startsWith("*.");
  const name = (wildcard ? text.slice(2) : text).toLowerCase().replace(/\.$/, "");
  const labels = name.split(".");
  if (name.length > 253 || !labels.every((l) => HOST_LABEL.test(l))) {
    return "is not a host name, an address or a network";
  }
  // A URL reads a name ending in a number as an IPv4 address, so such a name never matches.
  if (/^(\d+|0x[0-9a-f]*)$/.test(labels.at(-1)!)) return "is not a valid IPv4 address";
  return { name, wildcard };
}

/** One `--allow-target` entry → a rule, or a problem (what is wrong, without the entry). */
export function parseTargetRule(entry: string): TargetRule | string {
  const text = entry.trim();
  let host = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](\/[^:]*)?(?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]! + (bracketed[2] ?? "");
    portText = bracketed[3];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, portText] = text.split(":") as [string, string];
  }
  const ports = portText === undefined ? undefined : parsePorts(portText);
  if (typeof ports === "string") return ports;
  const withPorts = ports === undefined ? {} : { ports };
  if (bracketed || /^[\d.]+(\/.*)?$/.test(host) || host.includes(":") || host.includes("/")) {
    const network = parseNetwork(host);
    if (typeof network === "string") return network;
    return { kind: "network", text, network, ...withPorts };
  }
  const name = parseHostName(host);
  if (typeof name === "string") return name;
  return { kind: "host", text, ...name, ...withPorts };
}

/**
 * The entries of `--allow-target` flags or `SURGE_ALLOW_TARGETS` (comma- or space-separated) →
 * the policy, or one problem per bad entry.
 */
export function parseTargetPolicy(texts: readonly string[]): TargetPolicy | string[] {
  const entries = texts.flatMap((t) => t.split(/[\s,]+/)).filter((e) => e !== "");
  const rules: TargetRule[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const rule = parseTargetRule(entry);
    if (typeof rule === "string") problems.push(`"${entry}" ${rule}`);
    else rules.push(rule);
  }
  return problems.length > 0 ? problems : { rules };
}

/** A target as the driver is about to aim at it. */
export interface Target {
  /** The URL's host name (lowercase), or its address without brackets. */
  host: string;
  port: number;
  /** What the host name resolved to (the address itself for an address). */
  addresses: readonly string[];
}

/** Allowed, or refused and why. */
export type Verdict = { allowed: true } | { allowed: false; reason: string };

const portAllowed = (rule: TargetRule, port: number) =>
  rule.ports === undefined || (port >= rule.ports.first && port <= rule.ports.last);

function hostMatches(rule: TargetRule & { kind: "host" }, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return rule.wildcard ? name.endsWith(`.${rule.name}`) : name === rule.name;
}

function networkAllows(rule: TargetRule, address: IpAddress, port: number): boolean {
  return rule.kind === "network" && contains(rule.network, address) && portAllowed(rule, port);
}

/** Why the policy refuses `target`, or that it allows it. */
export function checkTarget(policy: TargetPolicy, target: Target): Verdict {
  const { host, port } = target;
  if (target.addresses.length === 0) {
    return { allowed: false, reason: `${host} resolved to no address` };
  }
  const addresses: IpAddress[] = [];
  for (const text of target.addresses) {
    const address = parseIp(text);
    if (address === undefined) {
      return { allowed: false, reason: `${host} resolved to "${text}", not an IP address` };
    }
    const denied = DENIED.find((d) => contains(d.network, address));
    const lifted = denied !== undefined &&
      policy.rules.some((r) =>
        r.kind === "network" && within(r.network, denied.network) && networkAllows(r, address, port)
      );
    if (denied !== undefined && !lifted) {
      const canonical = format(address);
      const shown = canonical === host ? host : `${host} (${canonical})`;
      return { allowed: false, reason: `${shown} is in ${denied.text}: ${denied.why}` };
    }
    addresses.push(address);
  }
  if (policy.rules.length === 0) return { allowed: true };
  const byName = policy.rules.some((r) =>
    r.kind === "host" && hostMatches(r, host) && portAllowed(r, port)
  );
  const byAddress = addresses.every((a) => policy.rules.some((r) => networkAllows(r, a, port)));
  if (byName || byAddress) return { allowed: true };
  const named = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const resolved = addresses.map(format).filter((a) => a !== host);
  return {
    allowed: false,
    reason: `${named}${resolved.length > 0 ? ` (${resolved.join(", ")})` : ""} is not in the ` +
      `allow-list (${policy.rules.map((r) => r.text).join(", ")})`,
  };
}

/** The policy in one line, for the driver's start-up log. */
export function describePolicy(policy: TargetPolicy): string {
  const denied = DENIED.map((d) => d.text).join(", ");
  if (policy.rules.length === 0) return `any target except ${denied}`;
  return `only ${policy.rules.map((r) => r.text).join(", ")} (never ${denied} unless listed)`;
}
