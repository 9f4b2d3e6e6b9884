/**
 * The cap on request bodies: the API refuses a larger one with 413 before reading it (declared
 * length) or as soon as it has read past the cap (chunked or unknown length), so no request can
 * make the orchestrator buffer more than the cap.
 */
import { bodyLimit } from "hono/body-limit";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../shared/api_error.ts";

/**
 * 8 MiB. The biggest legitimate body is a test config: its `body` field holds up to 1,048,576
 * characters, which JSON can spell as `\uXXXX` escapes of 6 bytes each (6 MiB), and the rest —
 * headers, drivers, statuses — fits in the other 2 MiB. So nothing the schema accepts is refused
 * for its size, and what the schema refuses is named field by field (400), not cut off.
 */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Refuses bodies over `maxBytes` with 413 in the API's one error shape. */
export function limitBody(maxBytes = MAX_BODY_BYTES): MiddlewareHandler {
  const mib = maxBytes / (1024 * 1024);
  return bodyLimit({
    maxSize: maxBytes,
    onError: () =>
      new ApiError(413, `Request body too large: the API reads at most ${mib} MiB`).getResponse(),
  });
}
