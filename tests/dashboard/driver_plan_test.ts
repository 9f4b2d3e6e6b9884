/**
 * The dashboard's "runs on N drivers" line beside Start (dashboard/client/driver_plan.js, loaded
 * here as it is served): the same rule as the orchestrator's trigger, from a snapshot's drivers
 * and the form's Drivers field.
 */
import assert from "node:assert/strict";
import "../../dashboard/client/driver_plan.js";
import type { Driver } from "../../shared/api.ts";
import { driver } from "../cli/fixtures.ts";

interface Plan {
  ok: boolean;
  count: number;
  text: string;
}
const { plan, namesIn } = (globalThis as unknown as {
  SurgeDriverPlan: {
    plan: (drivers: Driver[], named: string) => Plan;
    namesIn: (text: string) => string[];
  };
}).SurgeDriverPlan;

const fleet = [
  driver({ node_id: "one" }),
  driver({ node_id: "two" }),
  driver({ node_id: "three", status: "left" }),
  driver({ node_id: "four", status: "lost" }),
];

Deno.test("driver_plan.js: the count and names a test from the form would run on", () => {
  const many = Array.from({ length: 7 }, (_, i) => driver({ node_id: `d${i + 1}` }));
  const table: [string, Driver[], string, Plan][] = [
    ["every alive driver", fleet, "", { ok: true, count: 2, text: "on 2 alive drivers: one, two" }],
    ["blank field", fleet, " , ", { ok: true, count: 2, text: "on 2 alive drivers: one, two" }],
    ["one named", fleet, "two", { ok: true, count: 1, text: "on 1 driver: two" }],
    ["named twice", fleet, "one, one,two", { ok: true, count: 2, text: "on 2 drivers: one, two" }],
    ["nobody alive", fleet.slice(2), "", { ok: false, count: 0, text: "no driver is alive" }],
    ["no driver at all", [], "", { ok: false, count: 0, text: "no driver is alive" }],
    ["named, not alive", fleet, "one, three, four, nine", {
      ok: false,
      count: 1,
      text: "not alive: three left, four lost, nine never seen",
    }],
    ["many: five names and the rest counted", many, "", {
      ok: true,
      count: 7,
      text: "on 7 alive drivers: d1, d2, d3, d4, d5 +2",
    }],
  ];
  for (const [what, drivers, named, want] of table) {
    assert.deepEqual(plan(drivers, named), want, what);
  }
  assert.deepEqual(namesIn(" a,b ,, a"), ["a", "b"]);
});
