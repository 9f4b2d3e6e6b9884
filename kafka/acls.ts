/**
 * The ACLs of a SASL cluster: what the `orchestrator` and `driver` users may do with one topic
 * prefix's topics and with their consumer groups. Only the orchestrator may write `test_config`
 * and `trigger`; only drivers may write `register` and `metrics`; both write `heartbeat` (drivers
 * their heartbeats, the orchestrator its probes, heartbeat_channel.ts); everything else is
 * denied (the local broker runs with `allow.everyone.if.no.acl.found=false`). The table is data,
 * so README and tests read the same grants the broker gets.
 */
import {
  type AclEntry,
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Admin,
  ResourcePatternTypes,
} from "kafkajs";
import { DRIVER_GROUP_PREFIX, electionGroup, ORCHESTRATOR_GROUP_PREFIX } from "../shared/groups.ts";
import { topicNames } from "../shared/topics.ts";

/** The operations surge's users are granted (READ and WRITE imply DESCRIBE in Kafka). */
export type AclOperation = "READ" | "WRITE" | "DESCRIBE";

/** One row of the table: `principal` may do `operations` on the named topics or groups. */
export interface AclGrant {
  principal: "User:orchestrator" | "User:driver";
  resource: "topic" | "group";
  /** Exact names, or name prefixes when `prefixed`. */
  names: string[];
  prefixed: boolean;
  operations: AclOperation[];
}

/**
 * The grants for surge's topics with `topicPrefix`. Topics are granted by exact name, so users
 * of one prefix get nothing on another's. Groups are granted by prefix (their names end in a
 * random id), the election group by exact name when the topic prefix is set.
 */
export function surgeAclGrants(topicPrefix: string): AclGrant[] {
  const topics = topicNames(topicPrefix);
  const orchestrator = "User:orchestrator" as const;
  const driver = "User:driver" as const;
  const topic = (names: string[], principal: AclGrant["principal"], ops: AclOperation[]) => ({
    principal,
    resource: "topic" as const,
    names,
    prefixed: false,
    operations: ops,
  });
  const commands = [topics.test_config, topics.trigger];
  const reports = [topics.register, topics.metrics, topics.heartbeat];
  const groups: AclGrant[] = [{
    principal: orchestrator,
    resource: "group",
    names: [ORCHESTRATOR_GROUP_PREFIX],
    prefixed: true,
    operations: ["READ"],
  }];
  // Without a topic prefix the election group starts with the orchestrators' group prefix.
  const election = electionGroup(topicPrefix);
  if (!election.startsWith(ORCHESTRATOR_GROUP_PREFIX)) {
    groups.push({
      principal: orchestrator,
      resource: "group",
      names: [election],
      prefixed: false,
      operations: ["READ"],
    });
  }
  return [
    // It also reads its own commands: a standby mirrors the active one's tests.
    topic(commands, orchestrator, ["WRITE", "READ"]),
    // The election topic carries no messages: owning its partition is the point.
    topic([...reports, topics.orchestrators], orchestrator, ["READ"]),
    // Its probes, read back to tell a stalled heartbeat topic from silent drivers.
    topic([topics.heartbeat], orchestrator, ["WRITE"]),
    ...groups,
    topic(reports, driver, ["WRITE"]),
    topic(commands, driver, ["READ"]),
    // Only to see that it exists at start-up (ensureTopics), never to read or write it.
    topic([topics.orchestrators], driver, ["DESCRIBE"]),
    {
      principal: driver,
      resource: "group",
      names: [DRIVER_GROUP_PREFIX],
      prefixed: true,
      operations: ["READ"],
    },
  ];
}

/** The grants as kafkajs ACL entries: one per principal, resource and operation. */
export function aclEntries(grants: readonly AclGrant[]): AclEntry[] {
  return grants.flatMap((grant) =>
    grant.names.flatMap((name) =>
      grant.operations.map((operation) => ({
        principal: grant.principal,
        host: "*",
        resourceType: grant.resource === "topic" ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
        resourceName: name,
        resourcePatternType: grant.prefixed
          ? ResourcePatternTypes.PREFIXED
          : ResourcePatternTypes.LITERAL,
        operation: AclOperationTypes[operation],
        permissionType: AclPermissionTypes.ALLOW,
      }))
    )
  );
}

/** Creates the grants' ACLs (again: creating an existing ACL changes nothing). */
export async function applyAcls(admin: Admin, grants: readonly AclGrant[]): Promise<void> {
  await admin.connect();
  try {
    await admin.createAcls({ acl: aclEntries(grants) });
  } finally {
    await admin.disconnect();
  }
}
