/**
 * Whether the fleet tests run here: they need root, iproute2 and network namespaces. In CI
 * (CI=true, which runs as root) a machine without them fails the tests with the reason; anywhere
 * else they are skipped, saying why.
 */
import { labUnavailable } from "../support/netns_lab.ts";

const reason = await labUnavailable();
const inCi = Deno.env.get("CI") === "true";
if (reason !== undefined && !inCi) {
  console.error(`fleet lab tests skipped: ${reason} (in CI they fail instead)`);
}

/** True when the fleet tests are skipped (outside CI, on a machine that cannot build a lab). */
export const skipLab = reason !== undefined && !inCi;

/** Throws the reason the lab cannot be built here (in CI, where it must be). */
export function requireLab(): void {
  if (reason !== undefined) {
    throw new Error(`the fleet lab cannot be built on this machine: ${reason}`);
  }
}
