/** The orchestrator's REST API from end-to-end tests: plain JSON, any status but 2xx throws. */

/** A JSON body as the tests read it (they check the fields they care about). */
// deno-lint-ignore no-explicit-any
export type Json = any;

/**
 * The API token of the tests' orchestrators: set as SURGE_API_TOKEN in the environment of every
 * orchestrator a test starts, and sent by {@link api} and the in-process harness.
 */
export const TEST_API_TOKEN = "surge-test-token-0123456789abcdef";

/** `Authorization: Bearer` with {@link TEST_API_TOKEN}. */
export const AUTH = { authorization: `Bearer ${TEST_API_TOKEN}` } as const;

/** Sends a request to `base` + `path` and returns the JSON answer; a non-2xx answer throws. */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Json> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? AUTH : { ...AUTH, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${JSON.stringify(json)}`);
  return json;
}
