/**
 * The aggregation bench's sequence of CPU windows (aggregation_cost.ts): one window's reading,
 * and held and loaded windows in turn, each started {@link SETTLE_MS} after the reports are held
 * or resumed.
 */
import type { TestView } from "../shared/api.ts";
import { sleep } from "../shared/async.ts";
import { say } from "./runner.ts";
import type { CpuWindow } from "./cpu_windows.ts";
import type { SyntheticFleet } from "./synthetic_fleet.ts";

/**
 * How long after the reports are held or resumed a window starts: the reports in flight (the
 * orchestrator fetches every 100 ms) belong to neither kind of window.
 */
export const SETTLE_MS = 1_000;

/** The windows of one run, in the order they were taken. */
export interface WindowSequence {
  /** Test running, reports held: one before each loaded window, one after the last. */
  held: CpuWindow[];
  /** Reports flowing, each between `held[i]` and `held[i + 1]`. */
  loaded: CpuWindow[];
  /** Reports flowing and users reading, between the last two held windows (unless skipped). */
  readers?: { window: CpuWindow; held: [CpuWindow, CpuWindow] };
}

/**
 * One window of `seconds`: the orchestrator's CPU, the reports sent, and how far its view is
 * behind the newest report sent when the window ends.
 */
export function windowOf(
  cpu: () => Promise<number>,
  fleet: SyntheticFleet,
  view: () => Promise<TestView>,
  seconds: number,
): () => Promise<CpuWindow> {
  return async () => {
    const [cpu0, sent0, t0] = [await cpu(), fleet.sent, performance.now()];
    await sleep(seconds * 1000);
    const [cpuMs, wallMs, reports] = [
      await cpu() - cpu0,
      performance.now() - t0,
      fleet.sent - sent0,
    ];
    const sent = new Map(fleet.lastReport);
    const { drivers: seen } = await view();
    const behind = Math.max(0, ...[...sent].map(([id, last]) => last - (seen[id]?.report_id ?? 0)));
    return { cpuMs, wallMs, reports, behind };
  };
}

/**
 * Held and loaded windows in turn, `cycles` loaded ones, then (given `read`) one loaded window
 * with users reading (`read` until its signal) between two more held ones; the reports flow at
 * the end.
 */
export async function heldAndLoaded(
  fleet: SyntheticFleet,
  window: () => Promise<CpuWindow>,
  cycles: number,
  read: ((signal: AbortSignal) => Promise<number>) | undefined,
): Promise<WindowSequence> {
  const windowWith = async (reporting: boolean) => {
    fleet.reporting = reporting;
    await sleep(SETTLE_MS);
    return await window();
  };
  const held = [await windowWith(false)];
  const loaded: CpuWindow[] = [];
  for (let i = 0; i < cycles; i++) {
    loaded.push(await windowWith(true));
    held.push(await windowWith(false));
  }
  if (!read) {
    fleet.reporting = true;
    return { held, loaded };
  }
  const stopReading = new AbortController();
  const reading = read(stopReading.signal);
  const readers = await windowWith(true);
  stopReading.abort();
  const afterReaders = await windowWith(false);
  say(`aggregation: ${await reading} reads while loaded; waiting for the final reports`);
  fleet.reporting = true;
  return { held, loaded, readers: { window: readers, held: [held.at(-1)!, afterReaders] } };
}
