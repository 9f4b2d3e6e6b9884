import assert from "node:assert/strict";
import { describePlan, NoDriversError, planDrivers } from "../../cli/driver_plan.ts";
import { driver } from "./fixtures.ts";

const fleet = [
  driver({ node_id: "one", node_ip: "10.0.0.5" }),
  driver({ node_id: "three", node_ip: "10.0.0.7", status: "left" }),
  driver({ node_id: "two", node_ip: null }),
  driver({ node_id: "four", status: "lost" }),
];

Deno.test("planDrivers() picks every alive driver, or the named ones, as the trigger will", () => {
  const table: [string, string[] | undefined, string[]][] = [
    ["no names: every alive driver", undefined, ["one", "two"]],
    ["an empty list is no names", [], ["one", "two"]],
    ["named: those, in the order named, once", ["two", "one", "two"], ["two", "one"]],
  ];
  for (const [what, named, want] of table) {
    assert.deepEqual(planDrivers(named, fleet).drivers.map((d) => d.node_id), want, what);
  }
});

Deno.test("planDrivers() refuses, saying why, when the test could not run", () => {
  const table: [string, string[] | undefined, typeof fleet, string][] = [
    [
      "nobody alive",
      undefined,
      fleet.filter((d) => d.status !== "alive"),
      "no driver is alive: start one with `deno task driver <name>` (known: three left, four lost)",
    ],
    [
      "no driver ever seen",
      undefined,
      [],
      "no driver is alive: start one with `deno task driver <name>`",
    ],
    [
      "a named driver is not alive",
      ["one", "three", "four", "nine"],
      fleet,
      "these drivers are not alive: three (left), four (lost), nine (never seen)",
    ],
  ];
  for (const [what, named, drivers, message] of table) {
    assert.throws(() => planDrivers(named, drivers), { name: NoDriversError.name, message }, what);
  }
});

Deno.test("describePlan() says the count and each name with its address", () => {
  assert.equal(
    describePlan(planDrivers(undefined, fleet)),
    "about to run on 2 drivers: one (10.0.0.5), two (address unknown)",
  );
  assert.equal(
    describePlan({ drivers: [{ node_id: "x\u001b[2Jy", node_ip: "10.0.0.1" }] }),
    "about to run on 1 driver: xy (10.0.0.1)",
  );
});
