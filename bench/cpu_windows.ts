/**
 * What a load adds to a process's CPU, from windows measured in turn with and without it: each
 * loaded window against the held windows right before and after it. A shared machine's
 * background load drifts by a percent of a core over a minute, as much as what is measured; a
 * baseline taken on both sides of each loaded window, seconds apart, cancels a steady drift, and
 * several pairs show how much the rest varies. Pure.
 */

/** CPU of a process over one window. */
export interface CpuWindow {
  cpuMs: number;
  wallMs: number;
  /** Units of load (reports) sent during the window; 0 in a held one. */
  reports: number;
  /** At its end, how many reports the process's view was behind the newest one sent. */
  behind: number;
}

/** What one loaded window (or all of them) cost beyond its baseline. */
export interface Added {
  /** Share of one core, in %. */
  percent: number;
  /** CPU ms per unit of load. */
  msPerReport: number;
}

/** Share of one core used over a window, in %. */
export const percentOfCore = (w: CpuWindow) => w.cpuMs / w.wallMs * 100;

/**
 * The CPU ms `loaded` used beyond its baseline: the mean share of a core of the held windows on
 * either side of it, over its own length.
 */
function extraMs(loaded: CpuWindow, before: CpuWindow, after: CpuWindow): number {
  const baseline = (before.cpuMs / before.wallMs + after.cpuMs / after.wallMs) / 2;
  return loaded.cpuMs - baseline * loaded.wallMs;
}

/**
 * Each loaded window against its neighbours: `held` are the windows without the load, one
 * before the first loaded window, one after each (`held.length === loaded.length + 1`).
 */
export function sandwiched(held: readonly CpuWindow[], loaded: readonly CpuWindow[]): Added[] {
  return extras(held, loaded).map((extra, i) => ({
    percent: extra / loaded[i]!.wallMs * 100,
    msPerReport: extra / loaded[i]!.reports,
  }));
}

/** All loaded windows together: their extra CPU over their total length and load. */
export function pooled(held: readonly CpuWindow[], loaded: readonly CpuWindow[]): Added {
  const extra = extras(held, loaded).reduce((a, b) => a + b, 0);
  const wall = loaded.reduce((sum, w) => sum + w.wallMs, 0);
  const reports = loaded.reduce((sum, w) => sum + w.reports, 0);
  return { percent: extra / wall * 100, msPerReport: extra / reports };
}

function extras(held: readonly CpuWindow[], loaded: readonly CpuWindow[]): number[] {
  if (held.length !== loaded.length + 1) {
    throw new RangeError(
      `${loaded.length} loaded windows need ${loaded.length + 1} held ones, got ${held.length}`,
    );
  }
  return loaded.map((w, i) => extraMs(w, held[i]!, held[i + 1]!));
}

/** The mean of windows, as one window. */
export function meanWindow(windows: readonly CpuWindow[]): CpuWindow {
  const mean = (f: (w: CpuWindow) => number) =>
    windows.reduce((sum, w) => sum + f(w), 0) / windows.length;
  return {
    cpuMs: mean((w) => w.cpuMs),
    wallMs: mean((w) => w.wallMs),
    reports: mean((w) => w.reports),
    behind: Math.max(...windows.map((w) => w.behind)),
  };
}
