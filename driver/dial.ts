/**
 * Opening a socket to the target: plain TCP, or TCP then TLS for https. Both phases honour the
 * abort signal the connection's timeout fires, so a black-holed https target fails at
 * `timeout_ms` like a plain one instead of after the operating system's connect timeout.
 */

/** Opens a socket to the target; rejects when `signal` aborts. */
export type Dial = (signal: AbortSignal) => Promise<Deno.Conn>;

/** The TLS handshake failed (bad certificate, not TLS, closed mid-handshake). */
export class TlsHandshakeError extends Error {
  override name = "TlsHandshakeError";
}

/**
 * A dialer for `url`'s host and port; `caCerts` adds trusted PEM roots for https. With `address`
 * (the one the target policy checked) it connects there and never resolves the host name, which
 * still names the server for TLS.
 */
export function dialerFor(url: URL, caCerts?: string[], address?: string): Dial {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  const connectTo = address ?? hostname;
  return async (signal) => {
    const tcp = await Deno.connect({ hostname: connectTo, port, signal });
    tcp.setNoDelay(true);
    if (!tls) return tcp;
    // Deno.connectTls takes no abort signal; closing the socket is what ends a handshake.
    let current: Deno.Conn = tcp;
    const close = () => {
      try {
        current.close();
      } catch {
        // Already closed.
      }
    };
    signal.addEventListener("abort", close, { once: true });
    try {
      const conn = await Deno.startTls(tcp, { hostname, ...(caCerts ? { caCerts } : {}) });
      current = conn;
      if (signal.aborted) close();
      await conn.handshake();
      return conn;
    } catch (err) {
      close();
      if (signal.aborted) throw new Deno.errors.TimedOut("TLS handshake timed out");
      throw new TlsHandshakeError(err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    } finally {
      signal.removeEventListener("abort", close);
    }
  };
}
