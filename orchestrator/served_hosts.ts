/**
 * Which `Host` (and `Origin`) the orchestrator answers for: the DNS-rebinding defence. A page on
 * evil.example whose name an attacker re-points at 127.0.0.1 reaches the orchestrator with
 * `Host: evil.example`; answering only names the server is known by refuses it. The names are
 * the bind address, 127.0.0.1, localhost and ::1 at the port the server listens on, plus the
 * operator's `--public-host` names. Pure functions, so the rules are tested without a socket.
 */

/** A host name (IPv6 without brackets, lower case) and the port, when one was written. */
export interface HostPort {
  name: string;
  port?: number;
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/;

/** Parses `name`, `name:port`, `[v6]` or `[v6]:port`; undefined for anything else. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = HOST_PORT.exec(text.trim());
  if (!m) return undefined;
  const name = (m[1] ?? m[2]!).toLowerCase();
  if (m[3] === undefined) return { name };
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { name, port } : undefined;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}

/** True for the addresses that mean every interface. */
export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/** `name:port` as a URL writes it (IPv6 in brackets). */
export function urlHost(name: string, port: number): string {
  return `${name.includes(":") ? `[${name}]` : name}:${port}`;
}

/**
 * The URL this machine reaches the server at: the bind address, or the loopback address of the
 * same family for a wildcard bind.
 */
export function localUrl(bind: string, port: number): string {
  const name = bind === "0.0.0.0" ? "127.0.0.1" : bind === "::" ? "::1" : bind;
  return `http://${urlHost(name, port)}`;
}

/**
 * The URL others are told (the standby's 409 names it): the first `--public-host` (at the port
 * it names, else the one listened on), else {@link localUrl}.
 */
export function announcedUrl(bind: string, port: number, publicHosts: readonly HostPort[]): string {
  const first = publicHosts[0];
  return first ? `http://${urlHost(first.name, first.port ?? port)}` : localUrl(bind, port);
}

/**
 * The rule for a `Host` header (`name[:port]`; no port means 80):
 *
 * - the bind address (unless a wildcard), 127.0.0.1, localhost and ::1 at the port listened on,
 *   read from `port()` (it is known only once the server listens, e.g. with `--port 0`);
 * - a `--public-host NAME:PORT` exactly; a `--public-host NAME` without a port bare (a reverse
 *   proxy on 80 or 443) or at the port listened on.
 *
 * The port matters: another server on this machine (the target on 127.0.0.1:8080) is another
 * origin, and the same rule decides whether an `Origin` is this server's own.
 */
export function servedHosts(
  bind: string,
  port: () => number,
  publicHosts: readonly HostPort[] = [],
): (host: string) => boolean {
  const local = new Set(["127.0.0.1", "localhost", "::1"]);
  if (!isWildcard(bind)) local.add(bind.toLowerCase());
  return (host) => {
    const given = parseHostPort(host);
    if (!given) return false;
    const listening = port();
    if (local.has(given.name) && (given.port ?? 80) === listening) return true;
    return publicHosts.some((p) =>
      p.name === given.name &&
      (p.port === undefined
        ? given.port === undefined || given.port === listening
        : given.port === p.port)
    );
  };
}

/**
 * Whether an `Origin` header names this server: an http(s) origin whose host `servesHost`
 * accepts. `null` (a sandboxed or file page) and anything unparsable are not.
 */
export function isServedOrigin(origin: string, servesHost: (host: string) => boolean): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && servesHost(url.host);
}
