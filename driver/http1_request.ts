/**
 * The request side of the engine's HTTP/1.1: the bytes of one request, built once per test and
 * written unchanged on every connection for every request.
 */

/** What to send: one request, built once and written many times. */
export interface RequestSpec {
  method: string;
  url: string | URL;
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The request's bytes: request line (path and query), Host, the given headers, Content-Length
 * when there is a body, then the body. HTTP/1.1 keeps the connection alive by default, so no
 * Connection header is needed. Throws TypeError on a method, header or URL that cannot be sent.
 */
export function buildRequest(spec: RequestSpec): Uint8Array {
  const url = typeof spec.url === "string" ? new URL(spec.url) : spec.url;
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Cannot send to "${url.href}": only http:// and https:// are supported`);
  }
  if (!TOKEN.test(spec.method)) throw new TypeError(`Invalid HTTP method "${spec.method}"`);
  const headers = Object.entries(spec.headers ?? {});
  const lines = [`${spec.method} ${url.pathname}${url.search} HTTP/1.1`];
  const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
  if (!has("host")) lines.push(`Host: ${url.host}`);
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw new TypeError(`Invalid header name "${name}"`);
    if (/[\r\n\0]/.test(value)) throw new TypeError(`Header "${name}" contains CR, LF or NUL`);
    lines.push(`${name}: ${value}`);
  }
  const body = spec.body === undefined ? undefined : new TextEncoder().encode(spec.body);
  if (body !== undefined && !has("content-length")) lines.push(`Content-Length: ${body.length}`);
  const head = new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
  if (body === undefined) return head;
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head, 0);
  bytes.set(body, head.length);
  return bytes;
}
