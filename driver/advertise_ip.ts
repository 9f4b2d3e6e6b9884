/**
 * The address a driver registers (`node_IP` in `register`): the one other hosts see it by. Given
 * with `--advertise-ip` (or SURGE_ADVERTISE_IP), else the local address of the interface that
 * routes to the brokers — the address the kernel picks for a TCP connection to the first broker
 * that accepts one, which is right on a host with several interfaces (a VPN, a container bridge)
 * where "the first non-loopback address" often is not. Only if no broker answers does it fall
 * back to the first non-loopback IPv4 address, saying so. Pure: the connection and the interface
 * list come in as functions, so `main.ts` alone touches the network.
 */
import { z } from "zod";
import { format, parseIp } from "./ip_address.ts";

/** `--advertise-ip` text → the address in canonical form; a zone or the unspecified address is refused. */
export const advertiseIpText = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  const address = trimmed.includes("%") ? undefined : parseIp(trimmed);
  if (address === undefined) {
    ctx.addIssue({
      code: "custom",
      message: "must be an IPv4 or IPv6 address (e.g. 10.0.0.5 or fd00::5, no zone)",
      input: text,
    });
    return z.NEVER;
  }
  if (address.value === 0n) {
    ctx.addIssue({
      code: "custom",
      message: "must be an address other hosts can reach, not the unspecified address",
      input: text,
    });
    return z.NEVER;
  }
  return format(address);
});

/** A broker entry (`host:port`, `[v6]:port`) as what `Deno.connect` takes. */
export function brokerEndpoint(broker: string): { hostname: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(broker.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { hostname: (match[1] ?? match[2])!, port };
}

/** One interface address, as `Deno.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  family: string;
  address: string;
}

/** What {@link chooseNodeIp} needs. */
export interface NodeIpDeps {
  /** `--advertise-ip` or SURGE_ADVERTISE_IP, already validated. */
  advertised?: string;
  brokers: readonly string[];
  /**
   * Opens a TCP connection to `hostname:port`, returns the local address it was made from and
   * closes it; rejects when the broker cannot be reached (bounded in time by the caller).
   */
  localAddressTowards: (hostname: string, port: number) => Promise<string>;
  /** The host's interface addresses, for the fallback; may throw (no `--allow-sys`). */
  interfaces: () => readonly InterfaceAddress[];
}

/** Where the registered address came from. */
export type NodeIpSource = "advertised" | "route" | "interface" | "loopback";

/** The address to register, where it came from, and what went wrong on the way (for the log). */
export interface NodeIpChoice {
  ip: string;
  source: NodeIpSource;
  /** Set when the route to the brokers could not be found and a fallback was taken. */
  warning?: string;
}

/** How many brokers are tried for the route before falling back: a long list costs no minutes. */
export const MAX_ROUTE_PROBES = 3;

/** The address this driver registers; never rejects. */
export async function chooseNodeIp(deps: NodeIpDeps): Promise<NodeIpChoice> {
  if (deps.advertised !== undefined) return { ip: deps.advertised, source: "advertised" };
  const failures: string[] = [];
  for (const broker of deps.brokers.slice(0, MAX_ROUTE_PROBES)) {
    const endpoint = brokerEndpoint(broker);
    if (endpoint === undefined) {
      failures.push(`${broker}: not host:port`);
      continue;
    }
    try {
      const local = await deps.localAddressTowards(endpoint.hostname, endpoint.port);
      const address = parseIp(local);
      if (address !== undefined && address.value !== 0n) {
        return { ip: format(address), source: "route" };
      }
      failures.push(`${broker}: the local address "${local}" is not usable`);
    } catch (err) {
      failures.push(`${broker}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const why = `no route to the brokers found (${failures.join("; ") || "no brokers"})`;
  const fallback = firstNonLoopbackIpv4(deps.interfaces);
  if (fallback !== undefined) {
    return {
      ip: fallback,
      source: "interface",
      warning: `${why}: registering ${fallback}, the first non-loopback IPv4 address; ` +
        "set --advertise-ip (SURGE_ADVERTISE_IP) to choose",
    };
  }
  return {
    ip: "127.0.0.1",
    source: "loopback",
    warning: `${why}, and no non-loopback IPv4 address: registering 127.0.0.1; ` +
      "set --advertise-ip (SURGE_ADVERTISE_IP) to choose",
  };
}

function firstNonLoopbackIpv4(interfaces: () => readonly InterfaceAddress[]): string | undefined {
  try {
    return interfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."))
      ?.address;
  } catch {
    return undefined; // no --allow-sys: the caller registers loopback and says so
  }
}
