/**
 * The fleet lab's scenarios (issue 12), on one lab built once: 3 Kafka nodes, the orchestrator,
 * the target and 9 drivers, each on its own
 * network-namespace host (tests/support/netns_lab.ts), then in turn:
 *
 * - a test across all 9 drivers: merged totals equal the target's count; each driver is
 *   registered under its own host's address;
 * - d3's cable pulled mid-test: lost within 3 s, the test settles on the other 8 and marks it;
 *   plugged in again, it takes part in the next test;
 * - d9's link at 50 ms and 1 % loss: the test completes exactly, and the orchestrator's view of
 *   d9 stays within the staleness bound plus the delay;
 * - d10 joins between tests and takes part; d1 is ended alone and the next test runs on the rest;
 * - the Kafka node leading most metrics partitions is SIGKILLed mid-test: the test completes,
 *   no metrics lost, totals equal the target's count.
 *
 * Each scenario puts back what it changed, also when it fails, so the next one still runs on the
 * drivers that are running then; the broker kill comes last. The lab is removed in `finally`. Measured figures go to stderr
 * (`[fleet +…s] …`). Needs root and iproute2: in CI it fails without them, elsewhere it is
 * skipped saying why (tests/fleet/lab_support.ts).
 */
import { Lab } from "../support/netns_lab.ts";
import { Fleet } from "./fleet.ts";
import { brokerKill } from "./broker_kill.ts";
import { cableCut } from "./cable_cut.ts";
import { slowLink } from "./slow_link.ts";
import { requireLab, skipLab } from "./lab_support.ts";
import { acrossAll, joinAndLeave } from "./membership.ts";
import { driverNames } from "./results.ts";

Deno.test({
  name: "the fleet: 3 brokers, an orchestrator, a target and 9 drivers on their own hosts",
  ignore: skipLab,
  // kafkajs (the broker kill's admin client) leaves internal timers behind.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    requireLab();
    const started = Date.now();
    const lab = await Lab.open();
    try {
      const fleet = await Fleet.start(lab);
      for (let n = 1; n <= 9; n++) await fleet.startDriver(n);
      const nine = driverNames(1, 9);
      await fleet.idle(nine, 180_000);
      fleet.say("9 drivers alive");
      await t.step(
        "a test across all 9 drivers: totals equal the target's count, each at its host's address",
        () => acrossAll(fleet, fleet.members()),
      );
      await t.step(
        "d3's cable pulled mid-test: lost within 3 s, the test settles on the other 8, d3 comes back",
        () => cableCut(fleet, fleet.members(), "d3"),
      );
      await t.step(
        "d9's link at 50 ms and 1 % loss: the test completes, d9's view within the staleness bound",
        () => slowLink(fleet, fleet.members(), "d9"),
      );
      await t.step(
        "d10 joins between tests and takes part; d1 is ended alone; the next runs on the rest",
        () => joinAndLeave(fleet, fleet.members(), 10, "d1"),
      );
      await t.step(
        "a Kafka node SIGKILLed mid-test: the test completes, totals equal the target's count",
        () => brokerKill(fleet, fleet.members()),
      );
    } finally {
      await lab.close();
      console.error(`[fleet] lab closed after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  },
});
