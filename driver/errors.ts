/**
 * How a failed request is named. Each kind points at a different culprit: the name service
 * (`dns`), the target's listener (`connect_refused`), its certificate or protocol (`tls`), this
 * machine's file-descriptor limit (`fd_limit`), a slow target (`timeout`), a target that hung up
 * before answering (`closed`, `reset`) or answered nonsense (`malformed`).
 */
import { TlsHandshakeError } from "./dial.ts";
import { MalformedResponseError } from "./http1.ts";
import type { ErrorKind } from "./worker_protocol.ts";

/** Maps a socket, connect or parse error to an error kind; `connecting`: it came from a dial. */
export function classifyError(err: unknown, connecting: boolean): ErrorKind {
  if (err instanceof MalformedResponseError) return "malformed";
  if (err instanceof TlsHandshakeError) return "tls";
  if (err instanceof Deno.errors.ConnectionRefused) return "connect_refused";
  if (err instanceof Deno.errors.TimedOut) return "timeout";
  if (err instanceof Deno.errors.UnexpectedEof) return "closed";
  if (
    err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.ConnectionAborted || err instanceof Deno.errors.NotConnected
  ) return "reset";
  // Deno has no classes for these two; its messages carry the OS's words and error numbers.
  const message = err instanceof Error ? err.message : String(err);
  if (/os error 24\b|too many open files/i.test(message)) return "fd_limit";
  if (/lookup address|name or service not known|no address associated/i.test(message)) {
    return "dns";
  }
  return connecting ? "connect_refused" : "other";
}
