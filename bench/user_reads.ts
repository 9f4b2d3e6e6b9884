/**
 * The reads of people watching a running test, for the aggregation bench's readers window: a
 * dashboard's event stream (reconnected as a browser's EventSource does) and a client that GETs the
 * test every second.
 */
import { createApiClient } from "../cli/api_client.ts";
import { sleep } from "../shared/async.ts";

/** Reads like a dashboard and a progress display until `signal`; returns how many reads. */
export async function readLikeUsers(
  base: string,
  token: string,
  testId: string,
  signal: AbortSignal,
) {
  const api = createApiClient(base, { token });
  let reads = 0;
  const dashboard = (async () => {
    while (!signal.aborted) {
      const res = await fetch(`${base}/dashboard/events?test=${testId}`, {
        headers: { authorization: `Bearer ${token}` },
        signal,
      }).catch(() => undefined);
      // The stream ends every 30 s; a browser's EventSource reconnects, and so does this.
      for await (const _chunk of res?.body ?? []) reads++;
    }
  })().catch(() => {});
  while (!signal.aborted) {
    await api.getTest(testId).catch(() => {});
    reads++;
    await sleep(1000, signal);
  }
  await dashboard;
  return reads;
}
