import assert from "node:assert/strict";
import {
  type Candidate,
  chooseActive,
  parseOrchestratorMember,
} from "../../orchestrator/election_rule.ts";

const member = (claim: boolean, id = "o1") => ({
  orchestrator_id: id,
  url: `http://127.0.0.1:8000/${id}`,
  claim,
});

Deno.test("chooseActive: the role stays with its holder; unreadable members never get it", () => {
  const table: { name: string; candidates: Candidate[]; want: string | undefined }[] = [
    { name: "nobody", candidates: [], want: undefined },
    { name: "one member", candidates: [{ memberId: "m2", member: member(false) }], want: "m2" },
    {
      name: "no claim: the lowest member id",
      candidates: [{ memberId: "m2", member: member(false) }, {
        memberId: "m1",
        member: member(false),
      }],
      want: "m1",
    },
    {
      name: "a standby joining does not take the role from its holder",
      candidates: [{ memberId: "m1", member: member(false) }, {
        memberId: "m9",
        member: member(true),
      }],
      want: "m9",
    },
    {
      name: "two claimants after a healed partition: the lowest member id",
      candidates: [{ memberId: "m5", member: member(true) }, {
        memberId: "m3",
        member: member(true),
      }],
      want: "m3",
    },
    {
      name: "an unreadable member is skipped, even with the lowest id",
      candidates: [{ memberId: "m0" }, { memberId: "m4", member: member(false) }],
      want: "m4",
    },
    { name: "only unreadable members: nobody", candidates: [{ memberId: "m0" }], want: undefined },
  ];
  for (const { name, candidates, want } of table) {
    assert.equal(chooseActive(candidates), want, name);
  }
});

Deno.test("parseOrchestratorMember: hostile user data is an error, never a throw", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const good = parseOrchestratorMember(bytes(JSON.stringify(member(true))));
  assert.deepEqual(good, { ok: true, value: member(true) });
  const table: [string, Uint8Array][] = [
    ["empty", new Uint8Array()],
    ["not UTF-8", new Uint8Array([0xff, 0xfe])],
    ["not JSON", bytes("{")],
    ["a number", bytes("42")],
    ["no url", bytes(JSON.stringify({ orchestrator_id: "o1", claim: true }))],
    ["bad url", bytes(JSON.stringify({ ...member(true), url: "javascript:alert(1)x y" }))],
    ["claim not boolean", bytes(JSON.stringify({ ...member(true), claim: "yes" }))],
    ["id with spaces", bytes(JSON.stringify({ ...member(true), orchestrator_id: "a b" }))],
  ];
  for (const [name, raw] of table) {
    const parsed = parseOrchestratorMember(raw);
    assert.equal(parsed.ok, false, name);
  }
});
