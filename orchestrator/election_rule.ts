/**
 * Who is the active orchestrator: the contract of the election group's member data and the rule
 * that gives the role. Orchestrators on one cluster join one Kafka consumer group on the
 * single-partition `orchestrators` topic; the member that owns its partition is active. Each
 * member tells the group its id, its URL and whether it holds the role now (`claim`); the group's
 * leader then keeps the role where it is, so a standby that joins never takes it over, and a
 * member that lost the group's attention (it stopped claiming) cannot take it back.
 */
import { z } from "zod";
import { describeIssues, httpUrlSchema, type ParseResult } from "../shared/messages.ts";

/** What an orchestrator tells its election group about itself (its membership's user data). */
export const orchestratorMemberSchema = z.object({
  orchestrator_id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 -"),
  /** Where its API answers. */
  url: httpUrlSchema,
  /** It holds the active role and hears the group coordinator, so it keeps the role. */
  claim: z.boolean(),
});
export type OrchestratorMember = z.infer<typeof orchestratorMemberSchema>;

/** Parses a member's user data, as another process (or anyone) wrote it. Never throws. */
export function parseOrchestratorMember(raw: Uint8Array): ParseResult<OrchestratorMember> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (err) {
    return { ok: false, error: `orchestrator member: not valid JSON (${(err as Error).message})` };
  }
  const result = orchestratorMemberSchema.safeParse(json);
  if (!result.success) {
    return { ok: false, error: `orchestrator member: ${describeIssues(result.error.issues)}` };
  }
  return { ok: true, value: result.data };
}

/** One member of the group as its leader sees it: undefined `member` if its data is unreadable. */
export interface Candidate {
  memberId: string;
  member?: OrchestratorMember;
}

/**
 * The member that gets the active role: a claimant if there is one (the lowest member id, should
 * two claim after a partition healed), else the lowest member id among readable members. A member
 * whose data cannot be read is never chosen: it is not an orchestrator of this version.
 */
export function chooseActive(candidates: readonly Candidate[]): string | undefined {
  const readable = candidates.filter((c) => c.member !== undefined);
  const claimants = readable.filter((c) => c.member!.claim);
  const pool = claimants.length > 0 ? claimants : readable;
  return pool.map((c) => c.memberId).sort()[0];
}
