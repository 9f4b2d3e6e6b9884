/** `loadtest list`: the orchestrator's tests as a table, newest first. Pure. */
import type { TestSummary } from "../shared/api.ts";
import { terminalSafe } from "../shared/terminal_text.ts";
import { formatCount, formatMs, renderTable } from "./table.ts";

/**
 * One row per test: id, state, type, target, when, requests, p99, mean rps; control characters
 * are stripped from every string (shared/terminal_text.ts).
 */
export function renderTestList(resources: readonly TestSummary[]): string {
  const tests = terminalSafe(resources);
  if (tests.length === 0) return "No tests yet. Run one: deno task loadtest --target URL";
  return renderTable(
    ["test", "state", "type", "target", "created", "requests", "errors", "p99 ms", "rps"],
    tests.map((t) => [
      t.test_id,
      t.state,
      t.config.test_type.toLowerCase(),
      t.config.target_url,
      t.created_at.replace("T", " ").slice(0, 19),
      formatCount(t.overall.requests),
      formatCount(t.overall.errors),
      t.overall.responses > 0 ? formatMs(t.overall.latency_ms.p99) : "-",
      t.overall.rps.mean.toFixed(1),
    ]),
    ["left", "left", "left", "left", "left", "right", "right", "right", "right"],
  );
}
