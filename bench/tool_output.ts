/** Reading the numbers out of wrk's and autocannon's output, and surge's `--json` line. */

import type { LocalSummary } from "../driver/local_summary.ts";

/** Requests per second from wrk's text output; throws TypeError when it is not there. */
export function wrkRps(output: string): number {
  const match = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!match) throw new TypeError(`no "Requests/sec" in wrk output:\n${output.slice(0, 500)}`);
  return Number(match[1]);
}

/** Non-2xx responses and socket errors wrk reports (0 when it reports none). */
export function wrkErrors(output: string): number {
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const sum = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return (non2xx ? Number(non2xx[1]) : 0) + sum;
}

/** Requests per second from `autocannon --json`: total requests over the run's duration. */
export function autocannonRps(output: string): number {
  const line = output.trim().split("\n").findLast((l) => l.startsWith("{"));
  if (line === undefined) throw new TypeError("no JSON line in autocannon output");
  const result = JSON.parse(line) as { requests?: { total?: number }; duration?: number };
  const total = result.requests?.total;
  const seconds = result.duration;
  if (typeof total !== "number" || typeof seconds !== "number" || seconds <= 0) {
    throw new TypeError("autocannon JSON lacks requests.total or duration");
  }
  return total / seconds;
}

/** surge's `--local --json` line. */
export type SurgeResult = LocalSummary;

/** Parses surge's one JSON line. */
export function surgeResult(output: string): SurgeResult {
  const line = output.trim().split("\n").findLast((l) => l.startsWith("{"));
  if (line === undefined) throw new TypeError(`no JSON line in surge output:\n${output}`);
  const result = JSON.parse(line) as SurgeResult;
  if (typeof result.rps !== "number" || typeof result.requests !== "number") {
    throw new TypeError(`unexpected surge JSON: ${line}`);
  }
  return result;
}

/**
 * CPU ms (user + system) of the children of a shell that ran `…; times`: its last line, in the
 * `0m1.234s 0m0.567s` form dash and bash print. Throws TypeError when it is not there.
 */
export function childCpuMs(output: string): number {
  const line = output.trim().split("\n").findLast((l) =>
    /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim())
  );
  if (line === undefined) throw new TypeError(`no "times" line in:\n${output.slice(-500)}`);
  const [user, sys] = line.trim().split(" ").map((t) => {
    const [, m, s] = /^(\d+)m([\d.]+)s$/.exec(t)!;
    return Number(m) * 60_000 + Number(s) * 1000;
  });
  return user! + sys!;
}
