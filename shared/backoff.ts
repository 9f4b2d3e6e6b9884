/**
 * Exponential backoff without jitter: the wait before retry _n_ doubles from `initialMs` and
 * stops growing at `maxMs`. surge's own retry loops (a driver's metrics publisher, a Kafka
 * consumer started again) use it; the cap is what bounds how late a retry can notice that the
 * broker is back.
 */

/** How long to wait between tries. */
export interface BackoffPolicy {
  /** The wait after the first failure. */
  initialMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

/**
 * The wait after `failures` consecutive failures (1 = the first): initialMs × 2^(failures − 1),
 * at most maxMs. 0 failures means no wait.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  // 2^30 × any sane initialMs is past every cap; stop there so the power cannot overflow.
  const doubled = policy.initialMs * 2 ** Math.min(failures - 1, 30);
  return Math.min(doubled, policy.maxMs);
}
