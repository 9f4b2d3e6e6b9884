/**
 * One active orchestrator per cluster, decided through Kafka itself: every orchestrator joins one
 * consumer group on the single-partition `orchestrators` topic, and the member that owns the
 * partition is active (orchestrator/election_rule.ts keeps the role where it is). When the active
 * orchestrator stops, it leaves the group and a standby gets the partition at once; when it dies,
 * the group coordinator drops it after {@link SESSION_TIMEOUT_MS} and a standby gets it then.
 */
import { Buffer } from "node:buffer";
import {
  AssignerProtocol,
  type Consumer,
  type GroupDescription,
  type Kafka,
  type PartitionAssigner,
} from "kafkajs";
import { sleep } from "../shared/async.ts";
import { KafkaSubscription } from "../shared/kafka_consumer.ts";
import { LinkMonitor } from "../shared/link_monitor.ts";
import type { Logger } from "../shared/log.ts";
import { chooseActive, type OrchestratorMember, parseOrchestratorMember } from "./election_rule.ts";

/**
 * How long the coordinator waits for a silent member before it gives its partition away: the
 * smallest that brokers allow by default (`group.min.session.timeout.ms`), so a standby takes over
 * within about this plus one heartbeat and one rebalance.
 */
export const SESSION_TIMEOUT_MS = 6_000;
const HEARTBEAT_MS = 500;
/** How long a rebalance waits for members to rejoin; every live member heartbeats far sooner. */
const REBALANCE_TIMEOUT_MS = 3_000;
/** Its own group protocol name: a consumer of another kind cannot join the group by mistake. */
const PROTOCOL = "SurgeActiveOrchestrator";
/** How long a standby reuses its answer to "who is active?". */
const DESCRIBE_CACHE_MS = 1_000;
/** How long a request waits for that answer before it says "not known". */
const DESCRIBE_WAIT_MS = 1_000;

/** Whether this orchestrator may command the fleet, and who may if it may not. */
export interface Leadership {
  /** True while this orchestrator owns the role and hears the group coordinator. */
  isActive(): boolean;
  /** The active orchestrator as the group says now (itself when active), if there is one. */
  active(): Promise<Omit<OrchestratorMember, "claim"> | undefined>;
}

/** What an election needs. */
export interface KafkaElectionOptions {
  kafka: Kafka;
  /** The `orchestrators` topic. */
  topic: string;
  groupId: string;
  /** This orchestrator as the others should name it (its URL is known once it listens). */
  me: () => Omit<OrchestratorMember, "claim">;
  logger: Logger;
  now?: () => number;
}

/** The last question "who is active?" put to the group coordinator. */
interface Described {
  at: number;
  settled: boolean;
  active: Promise<OrchestratorMember | undefined>;
}

/** This orchestrator's membership in the election group. */
export class KafkaElection implements Leadership {
  #options: KafkaElectionOptions;
  #now: () => number;
  #log: Logger;
  #assigned = false;
  /** When the coordinator last answered this member (join or heartbeat). */
  #heardAt = -Infinity;
  #subscription: KafkaSubscription | undefined;
  #described: Described | undefined;

  constructor(options: KafkaElectionOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger.child({ component: "election" });
  }

  /**
   * The role holds only while the coordinator answers: a member it has not heard from for half
   * the session timeout may already have been replaced, so it stops commanding before that.
   */
  isActive(): boolean {
    return this.#assigned && this.#now() - this.#heardAt < SESSION_TIMEOUT_MS / 2;
  }

  /** Joins the group; resolves once the first assignment says active or standby. */
  async start(): Promise<void> {
    const { kafka, topic, groupId, logger } = this.#options;
    this.#subscription = new KafkaSubscription({
      create: () => this.#consumer(kafka, groupId),
      topics: [topic],
      fromBeginning: false,
      eachMessage: async () => {}, // the topic carries no messages; owning it is the point
      link: new LinkMonitor(SESSION_TIMEOUT_MS, this.#now()),
      logger,
      now: this.#now,
    });
    await this.#subscription.start();
  }

  /** Leaves the group: a standby takes over at once. */
  async close(): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    this.#assigned = false;
    await subscription?.close();
  }

  async active(): Promise<Omit<OrchestratorMember, "claim"> | undefined> {
    if (this.isActive()) return this.#options.me();
    const now = this.#now();
    // One question at a time: while Kafka does not answer, no new admin client piles up.
    const stale = this.#described && this.#described.settled &&
      now - this.#described.at > DESCRIBE_CACHE_MS;
    if (!this.#described || stale) {
      const asked: Described = {
        at: now,
        settled: false,
        active: this.#describe().catch(() => undefined).finally(() => asked.settled = true),
      };
      this.#described = asked;
    }
    // Kafka may be unreachable: kafkajs would retry for a minute, and /healthz must not wait.
    const found = await Promise.race([
      this.#described.active,
      sleep(DESCRIBE_WAIT_MS).then(() => undefined),
    ]);
    return found && { orchestrator_id: found.orchestrator_id, url: found.url };
  }

  #consumer(kafka: Kafka, groupId: string): Consumer {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_MS,
      maxWaitTimeInMs: HEARTBEAT_MS,
      allowAutoTopicCreation: false,
      partitionAssigners: [this.#assigner],
    });
    // A new consumer is a new member: it owns nothing until the group says so.
    this.#assigned = false;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[this.#options.topic]?.includes(0) ?? false;
      this.#heardAt = this.#now();
      if (assigned !== this.#assigned) {
        this.#log.info(assigned ? "this orchestrator is active" : "this orchestrator is standby");
      }
      this.#assigned = assigned;
      this.#described = undefined;
    });
    consumer.on(consumer.events.HEARTBEAT, () => this.#heardAt = this.#now());
    return consumer;
  }

  /** The group's assigner: runs on whichever member the coordinator makes the group's leader. */
  #assigner: PartitionAssigner = () => ({
    name: PROTOCOL,
    version: 1,
    protocol: ({ topics }) => ({
      name: PROTOCOL,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.from(JSON.stringify({ ...this.#options.me(), claim: this.isActive() })),
      }),
    }),
    assign: ({ members }) => {
      const active = chooseActive(members.map(({ memberId, memberMetadata }) => {
        const parsed = parseOrchestratorMember(userData(memberMetadata));
        return { memberId, member: parsed.ok ? parsed.value : undefined };
      }));
      return Promise.resolve(members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: memberId === active ? { [this.#options.topic]: [0] } : {},
          userData: Buffer.alloc(0),
        }),
      })));
    },
  });

  /** The member that owns the partition now, read from the coordinator. */
  async #describe(): Promise<OrchestratorMember | undefined> {
    const admin = this.#options.kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([this.#options.groupId]);
      return ownerOf(groups[0], this.#options.topic);
    } finally {
      await admin.disconnect();
    }
  }
}

/** A member's user data; empty when its metadata does not decode. */
function userData(metadata: Buffer): Uint8Array {
  try {
    return AssignerProtocol.MemberMetadata.decode(metadata)?.userData ?? new Uint8Array();
  } catch {
    return new Uint8Array();
  }
}

/** The readable member of `group` assigned partition 0 of `topic`. */
function ownerOf(group: GroupDescription | undefined, topic: string) {
  for (const member of group?.members ?? []) {
    try {
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      if (!assignment?.assignment[topic]?.includes(0)) continue;
    } catch {
      continue;
    }
    const parsed = parseOrchestratorMember(userData(member.memberMetadata));
    if (parsed.ok) return parsed.value;
  }
  return undefined;
}
