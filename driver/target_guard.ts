/**
 * The target policy (target_policy.ts) applied before a test dials anything: the target's host
 * name is resolved once, every address it resolves to is checked, and the engine is started
 * pinned to the first of them (`LoadSpec.address`: what `Deno.connect` would have picked). The
 * engine never resolves the name again, so a DNS answer that changes after the check (DNS
 * rebinding) cannot turn the test towards an address that was not checked.
 *
 * A refused test runs nothing: it ends at once with one final report of zero counts whose
 * `error` says `refused: target not allowed: <why>`, so the orchestrator shows the refusal in the
 * driver's result, never a silent absence.
 */
import { createHistogramSet, createTotals } from "./totals.ts";
import type { PoolOptions, PoolReport, RunningTest } from "./pool.ts";
import { checkTarget, type TargetPolicy, type Verdict } from "./target_policy.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/** How a test is started: the engine, or what a test substitutes. */
export type StartTest = (spec: LoadSpec, options: PoolOptions) => RunningTest;

/** Every address a host name resolves to, in the order a connect would try them. */
export type Resolve = (host: string) => Promise<string[]>;

/** What the guard needs. */
export interface TargetGuardDeps {
  policy: TargetPolicy;
  /** The resolver (driver/resolve_host.ts), not asked for an address literal. */
  resolve: Resolve;
  /** Told why a test was refused, before its report goes out. */
  onRefused?: (reason: string) => void;
}

/** The words every refusal starts with, in the driver's result. */
export const REFUSED = "refused: target not allowed";

/** The address a target's URL names (host without brackets), and its port. */
function hostAndPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)) };
}

/** `promise`, or a rejection after `ms`: a resolver that hangs must not wedge the test. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Checks `spec`'s target: the verdict, and the address to dial when allowed. An address literal
 * is checked as it is, without asking the resolver; a name that does not resolve (within the
 * test's timeout) is refused, since what it would reach cannot be checked.
 */
export async function aim(
  spec: LoadSpec,
  deps: Pick<TargetGuardDeps, "policy" | "resolve">,
): Promise<Verdict & { address?: string }> {
  const { host, port } = hostAndPort(new URL(spec.url));
  let addresses: string[];
  const literal = /^[\d.]+$/.test(host) || host.includes(":");
  if (literal) addresses = [host];
  else {
    try {
      addresses = await bounded(deps.resolve(host), spec.timeoutMs, `resolving ${host}`);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return { allowed: false, reason: `cannot resolve ${host} to check it (${why})` };
    }
  }
  const verdict = checkTarget(deps.policy, { host, port, addresses });
  return verdict.allowed ? { ...verdict, address: addresses[0]! } : verdict;
}

/** The report of a test that sent nothing: zero counts, final, with `error` when refused. */
export function emptyFinalReport(error?: string): PoolReport {
  return {
    ...createTotals(),
    interval: createHistogramSet(),
    elapsedMs: 0,
    intervalRps: 0,
    unfinished: 0,
    final: true,
    ...(error === undefined ? {} : { error }),
  };
}

/** A test that starts the engine only once its target has been checked. */
class GuardedTest implements RunningTest {
  readonly done: Promise<PoolReport>;
  #inner: RunningTest | undefined;
  #stopped = false;

  constructor(start: StartTest, deps: TargetGuardDeps, spec: LoadSpec, options: PoolOptions) {
    this.done = this.#run(start, deps, spec, options);
  }

  stop(): void {
    this.#stopped = true;
    this.#inner?.stop();
  }

  async #run(
    start: StartTest,
    deps: TargetGuardDeps,
    spec: LoadSpec,
    options: PoolOptions,
  ): Promise<PoolReport> {
    let error: string | undefined;
    try {
      const verdict = await aim(spec, deps);
      if (verdict.allowed && !this.#stopped) {
        this.#inner = start({ ...spec, address: verdict.address }, options);
        return await this.#inner.done;
      }
      if (!verdict.allowed) {
        error = `${REFUSED}: ${verdict.reason}`;
        deps.onRefused?.(verdict.reason);
      }
    } catch (err) {
      // Started asynchronously now, a failure to start must still end the test with a report.
      if (this.#inner !== undefined) throw err;
      error = `cannot start the test: ${err instanceof Error ? err.message : String(err)}`;
    }
    // Refused, or stopped while its target was being checked: it ends having sent nothing.
    const report = emptyFinalReport(error);
    options.onReport?.(report);
    return report;
  }
}

/** `start`, with every test's target checked by `deps.policy` before anything is dialled. */
export function guardTargets(start: StartTest, deps: TargetGuardDeps): StartTest {
  return (spec, options) => new GuardedTest(start, deps, spec, options);
}
