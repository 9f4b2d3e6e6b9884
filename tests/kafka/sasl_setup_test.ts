import assert from "node:assert/strict";
import { aclEntries, type AclGrant, surgeAclGrants } from "../../kafka/acls.ts";
import { brokerProperties } from "../../kafka/broker_properties.ts";
import {
  addScramArgs,
  PASSWORD_PATTERN,
  passwordFile,
  randomPassword,
  settlePasswords,
} from "../../kafka/sasl_users.ts";
import { TOPIC_KINDS, topicNames } from "../../shared/topics.ts";
import { singleNodeLayout } from "../../kafka/cluster_layout.ts";

Deno.test("a SASL broker authenticates every listener and denies what no ACL allows", () => {
  const lines = brokerProperties(singleNodeLayout(9092), "/tmp/x", {
    adminPassword: "pw-0123456789",
  }).split("\n");
  for (
    const line of [
      "listeners=SASL_PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
      "advertised.listeners=SASL_PLAINTEXT://127.0.0.1:9092",
      "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
      "listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512",
      "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
      "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users=User:admin",
      "allow.everyone.if.no.acl.found=false",
      "auto.create.topics.enable=false",
    ]
  ) assert.ok(lines.includes(line), line);
  assert.ok(!lines.some((l) => l.includes("PLAINTEXT://") && !l.includes("SASL_PLAINTEXT://")));
  // The controller's only PLAIN user is the admin, with the admin's password.
  assert.ok(lines.some((l) => l.endsWith('user_admin="pw-0123456789";')));
});

Deno.test("SCRAM users are bootstrapped with the storage tool's --add-scram", () => {
  assert.deepEqual(addScramArgs({ admin: "a", orchestrator: "o", driver: "d" }), [
    "--add-scram",
    "SCRAM-SHA-512=[name=admin,password=a]",
    "--add-scram",
    "SCRAM-SHA-512=[name=orchestrator,password=o]",
    "--add-scram",
    "SCRAM-SHA-512=[name=driver,password=d]",
  ]);
  for (let i = 0; i < 2000; i++) assert.match(randomPassword(), PASSWORD_PATTERN);
});

/** The grants as `principal resource pattern:name operation` lines, to compare with a table. */
function rows(grants: AclGrant[]): string[] {
  return aclEntries(grants).map((e) =>
    `${e.principal} ${e.resourceType === 2 ? "topic" : "group"} ` +
    `${e.resourcePatternType === 4 ? "prefixed" : "literal"}:${e.resourceName} ${e.operation}`
  );
}

Deno.test("ACLs: the orchestrator writes commands, drivers write reports, each reads the other", () => {
  const [READ, WRITE, DESCRIBE] = [3, 4, 8];
  const o = "User:orchestrator", d = "User:driver";
  assert.deepEqual(rows(surgeAclGrants("t.")), [
    `${o} topic literal:t.test_config ${WRITE}`,
    `${o} topic literal:t.test_config ${READ}`,
    `${o} topic literal:t.trigger ${WRITE}`,
    `${o} topic literal:t.trigger ${READ}`,
    `${o} topic literal:t.register ${READ}`,
    `${o} topic literal:t.metrics ${READ}`,
    `${o} topic literal:t.heartbeat ${READ}`,
    `${o} topic literal:t.orchestrators ${READ}`,
    `${o} topic literal:t.heartbeat ${WRITE}`,
    `${o} group prefixed:surge-orchestrator ${READ}`,
    `${o} group literal:t.surge-orchestrators ${READ}`,
    `${d} topic literal:t.register ${WRITE}`,
    `${d} topic literal:t.metrics ${WRITE}`,
    `${d} topic literal:t.heartbeat ${WRITE}`,
    `${d} topic literal:t.test_config ${READ}`,
    `${d} topic literal:t.trigger ${READ}`,
    `${d} topic literal:t.orchestrators ${DESCRIBE}`,
    `${d} group prefixed:surge-driver- ${READ}`,
  ]);
  // Without a prefix the election group "surge-orchestrators" is inside the prefixed grant.
  assert.ok(!rows(surgeAclGrants("")).some((r) => r.includes("literal:surge-orchestrators")));
  // Who may write each topic, derived from the grants: one role per topic but the heartbeat
  // topic (drivers' beats, the orchestrator's probes), none for the election topic.
  const topics = topicNames("");
  const writers = Object.fromEntries(
    [...TOPIC_KINDS, "orchestrators" as const].map((kind) => [
      kind,
      aclEntries(surgeAclGrants("")).filter((e) =>
        e.resourceType === 2 && e.resourceName === topics[kind] && e.operation === WRITE
      ).map((e) => e.principal),
    ]),
  );
  assert.deepEqual(writers, {
    register: [d],
    test_config: [o],
    trigger: [o],
    metrics: [d],
    heartbeat: [o, d],
    orchestrators: [],
  });
});

Deno.test({
  name: "passwords: drawn or given on a fresh storage, kept 0600, checked against a formatted one",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "surge-sasl-users-" });
    try {
      const given = "given-driver-password";
      const fresh = await settlePasswords(dir, { driver: given }, false);
      assert.equal(fresh.driver, given);
      assert.match(fresh.admin, PASSWORD_PATTERN);
      assert.notEqual(fresh.admin, fresh.orchestrator);
      assert.equal((await Deno.stat(`${dir}/sasl`)).mode! & 0o777, 0o700);
      for (const user of ["admin", "orchestrator", "driver"] as const) {
        const file = passwordFile(dir, user);
        assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600, file);
        assert.equal(await Deno.readTextFile(file), `${fresh[user]}\n`);
      }
      // A formatted storage keeps the passwords its users were created with.
      assert.deepEqual(await settlePasswords(dir, {}, true), fresh);
      await assert.rejects(
        settlePasswords(dir, { orchestrator: "another-password-here" }, true),
        /SURGE_KAFKA_ORCHESTRATOR_PASSWORD differs from the password orchestrator was created with/,
      );
      await Deno.remove(`${dir}/sasl`, { recursive: true });
      await assert.rejects(settlePasswords(dir, {}, true), /formatted without --sasl.*--wipe/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
