/**
 * Is anything there? One-shot probes of local ports and HTTP endpoints, for start-up checks and,
 * repeated by `pollUntil`, for waiting until a process is ready.
 */

/**
 * True when `port` on `hostname` (default 127.0.0.1) can be bound right now: nothing else holds
 * it, and the address is this host's.
 */
export function canBind(port: number, hostname = "127.0.0.1"): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on `host`:`port` (default 127.0.0.1). */
export async function isListening(port: number, host = "127.0.0.1"): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: host, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * True when `url` answers GET with a 2xx status, false for another status; rejects when nothing
 * answers. The body is discarded, so the connection is not left open.
 */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.ok;
}
