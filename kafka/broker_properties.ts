/**
 * The server.properties of one node surge starts: a combined broker+controller KRaft node, alone
 * on loopback or one voter of a cluster (kafka/cluster_layout.ts), in plaintext or, with SASL,
 * with every listener authenticated and an authorizer that refuses whatever its ACLs do not allow
 * (kafka/acls.ts).
 */
import { replicationFor } from "../shared/ensure_topics.ts";
import { endpointText, type NodeLayout, votersText } from "./cluster_layout.ts";

/** What a SASL broker needs to know: its own (the admin's) password. */
export interface BrokerSasl {
  adminPassword: string;
}

/**
 * Settings of every node, plaintext or SASL. Kafka's own topics (group offsets above all: a
 * consumer group is only as available as its coordinator's partition) are replicated like
 * surge's, so a 3-node cluster survives losing any one node.
 */
function commonProperties(node: NodeLayout, logDir: string): string[] {
  const { factor, minInsync } = replicationFor(node.voters.length);
  return [
    "process.roles=broker,controller",
    `node.id=${node.nodeId}`,
    `controller.quorum.voters=${votersText(node.voters)}`,
    "controller.listener.names=CONTROLLER",
    `log.dirs=${logDir}`,
    "num.partitions=1",
    `default.replication.factor=${factor}`,
    `min.insync.replicas=${minInsync}`,
    `offsets.topic.replication.factor=${factor}`,
    "offsets.topic.num.partitions=4",
    `transaction.state.log.replication.factor=${factor}`,
    `transaction.state.log.min.isr=${minInsync}`,
    `share.coordinator.state.topic.replication.factor=${factor}`,
    `share.coordinator.state.topic.min.isr=${minInsync}`,
    // A group here has a member per process; waiting for more only slows every consumer start.
    "group.initial.rebalance.delay.ms=0",
    // surge creates its topics explicitly; a misspelt topic must fail, not appear empty.
    "auto.create.topics.enable=false",
    "log.retention.hours=24",
  ];
}

/**
 * The listeners of a SASL broker. Clients use SCRAM-SHA-512 (users bootstrapped into the
 * storage by `--add-scram`, kafka/sasl_users.ts). The controller listener cannot use SCRAM in
 * KRaft (the controller would need the metadata it serves to check a password), so it takes
 * PLAIN with the admin as its only user: nothing on this machine reaches the controller, where
 * ACLs can be changed, without the admin's password. The broker itself is the admin on both.
 */
function saslProperties(node: NodeLayout, sasl: BrokerSasl): string[] {
  const password = sasl.adminPassword;
  return [
    `listeners=SASL_PLAINTEXT://${endpointText(node.listen)},` +
    `CONTROLLER://${endpointText(node.controller)}`,
    `advertised.listeners=SASL_PLAINTEXT://${endpointText(node.advertise)}`,
    "inter.broker.listener.name=SASL_PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
    "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
    "sasl.mechanism.controller.protocol=PLAIN",
    "listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512",
    "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=" +
    "org.apache.kafka.common.security.scram.ScramLoginModule required " +
    `username="admin" password="${password}";`,
    "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
    "listener.name.controller.plain.sasl.jaas.config=" +
    "org.apache.kafka.common.security.plain.PlainLoginModule required " +
    `username="admin" password="${password}" user_admin="${password}";`,
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users=User:admin",
    // Deny by default: a client may do only what an ACL grants it.
    "allow.everyone.if.no.acl.found=false",
  ];
}

/** The server.properties of one combined broker+controller node; SASL when `sasl` is given. */
export function brokerProperties(node: NodeLayout, logDir: string, sasl?: BrokerSasl): string {
  const listeners = sasl ? saslProperties(node, sasl) : [
    `listeners=PLAINTEXT://${endpointText(node.listen)},` +
    `CONTROLLER://${endpointText(node.controller)}`,
    `advertised.listeners=PLAINTEXT://${endpointText(node.advertise)}`,
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
  ];
  return [...commonProperties(node, logDir), ...listeners, ""].join("\n");
}
