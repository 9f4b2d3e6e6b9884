/**
 * The Kafka consumer groups surge's components join, named in one place: on a cluster with ACLs
 * (kafka/acls.ts) each component may join only its own groups, so the names and the grants must
 * not drift apart.
 */

/**
 * Every orchestrator group starts with this: its metrics group (kept per data dir, so a restart
 * resumes), its live groups (new each start) and, without a topic prefix, the election group.
 */
export const ORCHESTRATOR_GROUP_PREFIX = "surge-orchestrator";

/** Every driver group starts with this (one new group per driver process). */
export const DRIVER_GROUP_PREFIX = "surge-driver-";

/** The group an orchestrator's metrics and command-mirror consumer keeps across restarts. */
export function orchestratorMetricsGroup(instanceId: string): string {
  return `${ORCHESTRATOR_GROUP_PREFIX}-${instanceId}`;
}

/** The base of an orchestrator's live groups (heartbeats; `-register` for registrations). */
export function orchestratorLiveGroup(runId: string): string {
  return `${ORCHESTRATOR_GROUP_PREFIX}-live-${runId}`;
}

/** The one group per topic prefix whose partition owner is the active orchestrator. */
export function electionGroup(topicPrefix: string): string {
  return `${topicPrefix}${ORCHESTRATOR_GROUP_PREFIX}s`;
}

/** A driver process's own group: it reads every config and trigger itself. */
export function driverGroup(nodeId: string, runId: string): string {
  return `${DRIVER_GROUP_PREFIX}${nodeId}-${runId}`;
}
