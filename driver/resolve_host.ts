/**
 * Resolving a target's host name the way the engine's `Deno.connect` would: the system resolver
 * (getaddrinfo, so /etc/hosts counts), every address in its order. `Deno.resolveDns` asks DNS
 * servers directly and could answer differently from what a connect would use.
 */
import { lookup } from "node:dns/promises";

/** Every address `host` resolves to, in the resolver's order; rejects when it does not resolve. */
export async function resolveHost(host: string): Promise<string[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}
