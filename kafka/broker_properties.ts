/**
 * The server.properties of the local broker: a single combined broker+controller KRaft node on
 * loopback, in plaintext or, with SASL, with every listener authenticated and an authorizer that
 * refuses whatever its ACLs do not allow (kafka/acls.ts).
 */

/** Ports of one broker: clients connect to `port`, the KRaft controller listens on `controllerPort`. */
export interface BrokerPorts {
  port: number;
  controllerPort: number;
}

/** What a SASL broker needs to know: its own (the admin's) password. */
export interface BrokerSasl {
  adminPassword: string;
}

/** Settings of every local broker, plaintext or SASL. */
function commonProperties(controllerPort: number, logDir: string): string[] {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    "controller.listener.names=CONTROLLER",
    `log.dirs=${logDir}`,
    "num.partitions=1",
    "default.replication.factor=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=4",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    // A dev broker has one member per group; waiting for more only slows every consumer start.
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
function saslProperties(port: number, controllerPort: number, sasl: BrokerSasl): string[] {
  const password = sasl.adminPassword;
  return [
    `listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
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

/** The server.properties of a single combined broker+controller node; SASL when `sasl` is given. */
export function brokerProperties(ports: BrokerPorts, logDir: string, sasl?: BrokerSasl): string {
  const { port, controllerPort } = ports;
  const listeners = sasl ? saslProperties(port, controllerPort, sasl) : [
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
  ];
  return [...commonProperties(controllerPort, logDir), ...listeners, ""].join("\n");
}
