/**
 * The dial gate as a pure state machine: a table of event sequences (admissions, dial outcomes,
 * with the caller's clock) and what each admission must answer.
 */
import assert from "node:assert/strict";
import { type Admission, DIAL, DialGate, PROBE, SHUT } from "../../driver/dial_gate.ts";
import type { ErrorKind } from "../../driver/worker_protocol.ts";

/** One step: `who` (a connection, by number) asks at `at`, or reports how its dial ended. */
type Step =
  | { admit: number; at: number; expect: Admission }
  | { connected: number }
  | { failed: number; kind: ErrorKind; at: number };

const refused = (who: number, at: number): Step => ({ failed: who, kind: "connect_refused", at });
const admit = (who: number, at: number, expect: Admission): Step => ({ admit: who, at, expect });

const TABLE: [string, Step[], { shut: boolean; opened: number; error?: ErrorKind }][] = [
  ["open: everyone dials", [admit(1, 0, DIAL), admit(2, 0, DIAL)], { shut: false, opened: 0 }],
  [
    "a refusal shuts it for 10 ms; then one probe, and nobody else while it dials",
    [
      admit(1, 0, DIAL),
      refused(1, 0),
      admit(2, 9.9, SHUT),
      admit(2, 10, PROBE),
      admit(3, 10, SHUT),
      admit(1, 500, SHUT),
    ],
    { shut: true, opened: 0, error: "connect_refused" },
  ],
  [
    "failed probes double the pause: 10, 20, 40 ms",
    [
      refused(1, 0), // admitted while open
      admit(1, 10, PROBE),
      refused(1, 10),
      admit(1, 29, SHUT),
      admit(2, 30, PROBE),
      refused(2, 30),
      admit(2, 69, SHUT),
      admit(3, 70, PROBE),
    ],
    { shut: true, opened: 0 },
  ],
  [
    "dials admitted while open that fail after it shut do not lengthen the pause",
    [
      admit(1, 0, DIAL),
      admit(2, 0, DIAL),
      admit(3, 0, DIAL),
      refused(1, 0),
      refused(2, 0),
      refused(3, 1),
      admit(1, 10, PROBE),
    ],
    { shut: true, opened: 0 },
  ],
  [
    "a probe that connects opens it: everyone dials again",
    [refused(1, 0), admit(2, 10, PROBE), { connected: 2 }, admit(3, 10, DIAL)],
    { shut: false, opened: 1 },
  ],
  [
    "after opening, the next refusal starts over at 10 ms",
    [
      refused(1, 0),
      admit(1, 10, PROBE),
      refused(1, 10),
      admit(1, 30, PROBE),
      { connected: 1 },
      refused(2, 100),
      admit(2, 110, PROBE),
    ],
    { shut: true, opened: 1 },
  ],
  [
    "a connect admitted while open that lands after it shut opens it too",
    [admit(1, 0, DIAL), admit(2, 0, DIAL), refused(1, 0), { connected: 2 }, admit(3, 1, DIAL)],
    { shut: false, opened: 1 },
  ],
  [
    "a timeout never shuts it: the dial already waited",
    [admit(1, 0, DIAL), { failed: 1, kind: "timeout", at: 2_000 }, admit(2, 2_000, DIAL)],
    { shut: false, opened: 0 },
  ],
  [
    "a probe that times out opens it: the target no longer refuses",
    [refused(1, 0), admit(2, 10, PROBE), { failed: 2, kind: "timeout", at: 2_010 }],
    { shut: false, opened: 1 },
  ],
  [
    "it keeps the kind of the latest failed probe",
    [
      { failed: 1, kind: "tls", at: 0 },
      admit(1, 10, PROBE),
      { failed: 1, kind: "fd_limit", at: 10 },
    ],
    { shut: true, opened: 0, error: "fd_limit" },
  ],
  [
    "a stale probe's outcome does not free the newer probe's place",
    [
      refused(1, 0),
      admit(1, 10, PROBE),
      admit(2, 10, SHUT),
      { connected: 3 }, // admitted while open long ago: opens
      refused(4, 20), // shuts again: probe due at 30
      refused(1, 21), // the old probe ends: not the gate's probe any more
      admit(2, 30, PROBE),
      admit(3, 30, SHUT),
    ],
    { shut: true, opened: 1 },
  ],
];

for (const [name, steps, end] of TABLE) {
  Deno.test(`dial gate: ${name}`, () => {
    let opened = 0;
    const gate = new DialGate(() => opened++);
    const who = new Map<number, object>();
    const conn = (n: number) => who.get(n) ?? who.set(n, { n }).get(n)!;
    steps.forEach((step, i) => {
      if ("admit" in step) {
        assert.equal(gate.admit(conn(step.admit), step.at), step.expect, `step ${i}`);
      } else if ("connected" in step) gate.connected(conn(step.connected));
      else gate.failed(conn(step.failed), step.kind, step.at);
    });
    assert.equal(gate.shut, end.shut, "shut at the end");
    assert.equal(opened, end.opened, "times it opened");
    if (end.error !== undefined) assert.equal(gate.error, end.error);
  });
}

Deno.test("dial gate: probeAt says when the next probe may go", () => {
  const gate = new DialGate();
  const [a, b] = [{}, {}];
  assert.equal(gate.probeAt, 0, "open");
  gate.failed(a, "connect_refused", 100);
  assert.equal(gate.probeAt, 110);
  assert.equal(gate.admit(b, 110), PROBE);
  assert.equal(gate.probeAt, Infinity, "a probe is in flight");
  gate.failed(b, "connect_refused", 111);
  assert.equal(gate.probeAt, 131);
});
