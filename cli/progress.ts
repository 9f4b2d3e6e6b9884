/**
 * The live progress line of `deno task loadtest`, rendered from the test resource and the driver
 * list the REST API returns. Pure, so it is tested against fixed resources.
 */
import type { Driver, TestView } from "../shared/api.ts";
import { terminalSafe } from "../shared/terminal_text.ts";
import { formatCount, formatDuration } from "./table.ts";

/** The chosen drivers of a test (the API also lists unexpected reporters as `unchosen`). */
export function chosenDrivers(view: TestView): string[] {
  return Object.entries(view.drivers).filter(([, d]) => d.status !== "unchosen").map(([id]) => id);
}

/** Requests finished (answered or failed) and the planned total, if the test has one. */
export function progressOf(view: TestView): { done: number; total: number | null } {
  const done = view.overall.responses + view.overall.errors;
  const perDriver = view.config.message_count_per_driver;
  const drivers = chosenDrivers(view).length;
  if (perDriver === 0 || drivers === 0) return { done, total: null };
  return { done, total: perDriver * drivers };
}

/**
 * One line: `[  3.0s] running  1,200/2,000 (60%)  1,180 rps  p50 1.2ms  p99 8.9ms  errors 0
 * drivers 2/2 alive`. `elapsedS` is the client's own clock since the trigger, so the line moves
 * even before the first metrics arrive. Control characters are stripped from what it shows.
 */
export function renderProgress(
  resource: TestView,
  drivers: readonly Pick<Driver, "node_id" | "status">[],
  elapsedS: number,
): string {
  const view = terminalSafe(resource);
  const { done, total } = progressOf(view);
  const amount = total === null
    ? `${formatCount(done)} done`
    : `${formatCount(Math.min(done, total))}/${formatCount(total)} (${
      Math.floor(Math.min(1, done / total) * 100)
    }%)`;
  const chosen = chosenDrivers(view);
  const alive = drivers.filter((d) => chosen.includes(d.node_id) && d.status === "alive").length;
  const lat = view.overall.latency_ms;
  const hasLatency = view.overall.responses > 0;
  return [
    `[${elapsedS.toFixed(1).padStart(6)}s]`,
    view.state.padEnd(8),
    amount,
    `${formatCount(view.overall.rps.last)} rps`,
    `p50 ${hasLatency ? formatDuration(lat.median) : "-"}`,
    `p99 ${hasLatency ? formatDuration(lat.p99) : "-"}`,
    `errors ${formatCount(view.overall.errors)}`,
    `drivers ${alive}/${chosen.length} alive`,
  ].join("  ");
}
