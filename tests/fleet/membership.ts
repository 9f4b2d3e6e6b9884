/**
 * Fleet scenarios about who takes part: every driver of the fleet, each registered under its own
 * host's address; a driver that joins between tests and one that leaves (END to it alone,
 * through `POST /api/end`).
 */
import assert from "node:assert/strict";
import type { Json } from "../support/api_json.ts";
import type { Fleet } from "./fleet.ts";
import { assertComplete, avalanche, LATE_FINAL } from "./results.ts";

const COUNT = 200;

/** Runs an Avalanche of {@link COUNT} per driver on `names` and checks it against the target. */
async function runExact(fleet: Fleet, names: string[]): Promise<Json> {
  const before = await fleet.targetReceived();
  const id = await fleet.run(avalanche(fleet.targetUrl, COUNT));
  const { view } = await fleet.complete(id, names);
  const received = (await fleet.targetReceived()) - before;
  fleet.say(
    `test ${id} on ${names.length} drivers: ${view.overall.requests} requests, target got ${received}`,
  );
  assertComplete(view, names, COUNT, [LATE_FINAL]);
  assert.equal(received, names.length * COUNT, "the target's own count");
  return view;
}

/**
 * A test across `names`: the merged totals equal the target's own count, and every driver's
 * registered address is its own host's.
 */
export async function acrossAll(fleet: Fleet, names: string[]): Promise<void> {
  const drivers = await fleet.idle(names);
  for (const name of names) {
    const seen = drivers.find((d: Json) => d.node_id === name);
    assert.equal(seen?.node_ip, fleet.driver(name).host.address, `${name}'s registered address`);
  }
  await runExact(fleet, names);
}

/** Ends driver `name` alone through the API (`POST /api/end` with `drivers`). */
async function endOne(fleet: Fleet, name: string): Promise<void> {
  const { drivers } = await fleet.api("POST", "/api/end", { drivers: [name] });
  assert.deepEqual(drivers, [name], "END went to");
}

/**
 * Driver `joiner` (started now) takes part in the next test on `names` + itself; then `leaver`
 * is ended alone, exits, and the next test runs on the rest.
 */
export async function joinAndLeave(
  fleet: Fleet,
  names: string[],
  joiner: number,
  leaver: string,
): Promise<void> {
  const joined = await fleet.startDriver(joiner);
  const all = [...names, joined.name];
  const drivers = await fleet.idle(all);
  assert.equal(drivers.find((d: Json) => d.node_id === joined.name)?.node_ip, joined.host.address);
  fleet.say(`${joined.name} joined at ${joined.host.address}`);
  await runExact(fleet, all);

  const endedAt = Date.now();
  await endOne(fleet, leaver);
  // README "Drivers join and leave": a driver ended cleanly says so in a last heartbeat and is
  // shown `left` at once, not `lost` 3 s later; the others stay alive.
  const leftAt = await fleet.until(
    `${leaver} left, the others alive`,
    async () => {
      const { drivers } = await fleet.api("GET", "/api/drivers");
      const status = (id: string) => drivers.find((d: Json) => d.node_id === id)?.status;
      const others = all.every((n) => n === leaver || status(n) === "alive");
      return status(leaver) === "left" && others && Date.now();
    },
    30_000,
    50,
  );
  const status = await fleet.driver(leaver).process.status;
  assert.equal(status.code, 0, `${leaver} exit status`);
  fleet.say(
    `${leaver} ended alone: shown left ${leftAt - endedAt} ms after POST /api/end, exited 0`,
  );
  await runExact(fleet, all.filter((n) => n !== leaver));
}
