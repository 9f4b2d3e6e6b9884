/**
 * Which drivers a test is about to run on, said before it is triggered: drivers join and leave
 * between tests, so the count is not a constant to remember. The orchestrator decides at the
 * trigger (every alive driver, or those the test names); this is the same rule applied to the
 * driver list just read, so the user sees the count and the names first, and a test that could
 * not run is refused before it is even created. Pure.
 */
import type { Driver } from "../shared/api.ts";
import { stripControl } from "../shared/terminal_text.ts";

/** Thrown when no test can run: no driver is alive, or a named one is not. */
export class NoDriversError extends Error {
  override name = "NoDriversError";
}

/** The drivers a test would run on now. */
export interface DriverPlan {
  drivers: Pick<Driver, "node_id" | "node_ip">[];
}

/**
 * The drivers a test naming `named` (or none: every alive driver) would run on; throws a
 * {@link NoDriversError} saying what is missing.
 */
export function planDrivers(
  named: readonly string[] | undefined,
  drivers: readonly Pick<Driver, "node_id" | "node_ip" | "status">[],
): DriverPlan {
  const alive = drivers.filter((d) => d.status === "alive");
  if (named === undefined || named.length === 0) {
    if (alive.length > 0) return { drivers: alive };
    const others = drivers.map((d) => `${d.node_id} ${d.status}`).join(", ");
    throw new NoDriversError(
      "no driver is alive: start one with `deno task driver <name>`" +
        (others ? ` (known: ${others})` : ""),
    );
  }
  const wanted = [...new Set(named)];
  const missing = wanted.filter((id) => !alive.some((d) => d.node_id === id)).map((id) =>
    `${id} (${drivers.find((d) => d.node_id === id)?.status ?? "never seen"})`
  );
  if (missing.length > 0) {
    throw new NoDriversError(`these drivers are not alive: ${missing.join(", ")}`);
  }
  return { drivers: wanted.map((id) => alive.find((d) => d.node_id === id)!) };
}

/** `about to run on 2 drivers: one (10.0.0.5), two (10.0.0.6)`, control characters stripped. */
export function describePlan(plan: DriverPlan): string {
  const n = plan.drivers.length;
  const names = plan.drivers.map((d) => `${d.node_id} (${d.node_ip ?? "address unknown"})`);
  return stripControl(`about to run on ${n} driver${n === 1 ? "" : "s"}: ${names.join(", ")}`);
}
