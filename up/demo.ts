/**
 * `deno task up --demo`: a short Avalanche and a short Tsunami test through the REST API, with
 * their summaries, so a newcomer sees the whole system work from one command.
 */
import type { ApiClient } from "../cli/api_client.ts";
import { runTest } from "../cli/run_loadtest.ts";
import { renderSummary } from "../cli/summary.ts";
import type { TestParamsInput } from "../shared/api.ts";

/** The two demo tests against `targetUrl`. */
export function demoTests(targetUrl: string): { title: string; params: TestParamsInput }[] {
  const common = { target_url: targetUrl, timeout_ms: 5000, method: "GET" as const };
  return [
    {
      title: "Avalanche: 5,000 requests per driver, as fast as 10 connections per driver go",
      params: {
        ...common,
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: 5000,
        target_throughput: null,
        duration_s: 30,
        connections: 10,
      },
    },
    {
      title: "Tsunami: one request every 10 ms per driver for 3 s, the target answering in ~5 ms",
      params: {
        ...common,
        target_url: `${targetUrl}${targetUrl.includes("?") ? "&" : "?"}delay_ms=5`,
        test_type: "TSUNAMI",
        test_message_delay: 10,
        message_count_per_driver: 300,
        duration_s: 30,
        connections: 4,
      },
    },
  ];
}

/** Runs the demo tests one after the other; resolves true when both finished. */
export async function runDemo(
  api: ApiClient,
  targetUrl: string,
  say: (text: string) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  let ok = true;
  for (const { title, params } of demoTests(targetUrl)) {
    if (signal?.aborted) return false;
    say(`\n=== ${title}`);
    let last = 0;
    const { view } = await runTest(params, {
      api,
      signal,
      // One progress line a second is plenty in a shared terminal.
      onProgress: (line) => {
        if (Date.now() - last >= 1000) {
          last = Date.now();
          say(line);
        }
      },
      onNote: say,
    });
    say(renderSummary(view));
    if (view.state !== "finished") ok = false;
  }
  return ok;
}
