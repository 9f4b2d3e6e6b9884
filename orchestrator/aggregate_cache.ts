/**
 * The aggregates of the tests the orchestrator is feeding or reading, by test id. One that is not
 * in memory (after a restart, after a write the store refused, or a settled test read again) is
 * rebuilt by replaying the test's stored snapshots, which gives the same aggregate: only accepted
 * ones are stored, so each one whose histograms continue from an earlier report finds it replayed
 * before it (per driver by report id), and each of them decoded once before it was stored.
 */
import { scheduledRate } from "../shared/saturation.ts";
import { TestAggregate } from "./aggregator.ts";
import type { Store, TestRecord } from "./store.ts";

/** Aggregates kept in memory, rebuilt from the store on demand. */
export class AggregateCache {
  #aggregates = new Map<string, TestAggregate>();
  #store: Pick<Store, "snapshots">;
  #record: (testId: string) => TestRecord | undefined;

  /**
   * `record` finds a test's record as it is now: an aggregate reads the test's rate and trigger
   * time when it needs them, and a test is triggered after it is created.
   */
  constructor(store: Pick<Store, "snapshots">, record: (testId: string) => TestRecord | undefined) {
    this.#store = store;
    this.#record = record;
  }

  /** The aggregate of a test, rebuilt from the stored snapshots when not in memory. */
  get(testId: string): TestAggregate {
    let aggregate = this.#aggregates.get(testId);
    if (!aggregate) {
      aggregate = new TestAggregate(testId, () => {
        const record = this.#record(testId);
        return {
          rate: record ? scheduledRate(record.config) : null,
          connections: record?.config.connections ?? 0,
          triggeredAt: record?.triggered_at ?? null,
        };
      });
      for (const { message, receivedAt } of this.#store.snapshots(testId)) {
        try {
          aggregate.accept(message, receivedAt);
        } catch {
          // Only snapshots that decoded once are stored; a failure here changes nothing.
        }
      }
      this.#aggregates.set(testId, aggregate);
    }
    return aggregate;
  }

  /** Forgets a test's aggregate: it is rebuilt from the store if it is needed again. */
  delete(testId: string): void {
    this.#aggregates.delete(testId);
  }
}
