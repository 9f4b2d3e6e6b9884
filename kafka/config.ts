/** Configuration of `deno task kafka`: a pure function of environment and arguments. */
import { z } from "zod";
import { type Env, flag, flagOrEnv, readArgs, validate } from "../shared/cli_args.ts";
import { brokersText, kafkaEnv, portText, topicPrefixText } from "../shared/config.ts";
import { type KafkaAccess, kafkaAccessSchema } from "../shared/kafka_access.ts";
import { HELP, type Help } from "../shared/usage_error.ts";
import { PASSWORD_PATTERN, passwordVariable, SASL_USERS, type SaslUser } from "./sasl_users.ts";

/** What `deno task kafka` was asked to do. */
export interface KafkaTaskConfig {
  port: number;
  controllerPort: number;
  wipe: boolean;
  /** Only resolve the jars into the cache, then exit (CI and first-time set-up). */
  fetchOnly: boolean;
  topicPrefix: string;
  /** Set when KAFKA_BROKERS names an existing cluster: start nothing, only create topics. */
  external: string[] | undefined;
  /** How to reach `external` (KAFKA_SSL*, KAFKA_SASL*): as an admin, to create topics and ACLs. */
  access: KafkaAccess;
  /** `--sasl`: SCRAM users and ACLs; the passwords given by SURGE_KAFKA_<USER>_PASSWORD. */
  sasl: { passwords: Partial<Record<SaslUser, string>> } | undefined;
}

/** Usage text for `deno task kafka`. */
export const KAFKA_USAGE =
  `Usage: deno task kafka [--port N] [--controller-port N] [--wipe] [--fetch]
                       [--prefix P] [--sasl]

Starts a single-node Apache Kafka broker (KRaft) on 127.0.0.1, creates surge's topics and runs
in the foreground until Ctrl-C.
  --port N             client port (default 9092, or KAFKA_PORT)
  --controller-port N  KRaft controller port (default: port + 1)
  --wipe               delete the broker's data directory first
  --fetch              only download Kafka's jars into the cache (Maven), then exit
  --prefix P           topic-name prefix (default SURGE_TOPIC_PREFIX or none)
  --sasl               SASL_PLAINTEXT with SCRAM-SHA-512 users admin, orchestrator and driver,
                       and ACLs: only the orchestrator may write test_config and trigger, only
                       drivers register, metrics and heartbeat. Passwords come from
                       SURGE_KAFKA_ADMIN_PASSWORD, SURGE_KAFKA_ORCHESTRATOR_PASSWORD and
                       SURGE_KAFKA_DRIVER_PASSWORD, or are drawn on the first start; each is
                       kept in <data dir>/sasl/<user>.password (mode 0600)
With KAFKA_BROKERS set, nothing is started: the topics (and with --sasl their ACLs for the users
orchestrator and driver) are created on that cluster, reached with KAFKA_SSL* and KAFKA_SASL*.`;

/** A password given for a SASL user; its value is never quoted in a problem. */
const passwordText = z.string().transform((text, ctx) => {
  if (!PASSWORD_PATTERN.test(text)) {
    ctx.addIssue({
      code: "custom",
      message: "must be 12 to 200 of A-Z a-z 0-9 . _ ~ - (it is not shown here)",
      input: undefined,
    });
  }
  return text;
});

const schema = z.object({
  port: portText,
  controllerPort: portText.optional(),
  topicPrefix: topicPrefixText,
  external: brokersText.optional(),
  access: kafkaAccessSchema,
  admin: passwordText.optional(),
  orchestrator: passwordText.optional(),
  driver: passwordText.optional(),
}).refine((c) => c.controllerPort !== c.port, {
  path: ["controllerPort"],
  message: "must differ from --port",
});

/** Parses flags and env; throws a UsageError listing every problem at once. */
export function parseKafkaConfig(env: Env, args: readonly string[]): KafkaTaskConfig | Help {
  const { help, values, problems } = readArgs(args, {
    port: { type: "string" },
    "controller-port": { type: "string" },
    wipe: { type: "boolean" },
    fetch: { type: "boolean" },
    prefix: { type: "string" },
    sasl: { type: "boolean" },
  });
  if (help) return HELP;
  const prefix = flagOrEnv("prefix", values.prefix, env, "SURGE_TOPIC_PREFIX", "");
  const { brokers, topicPrefix, access } = kafkaEnv(env, { startsBroker: true, prefix });
  const sasl = values.sasl === true;
  const password = (user: SaslUser) => {
    const name = passwordVariable(user);
    const value = env[name]?.trim() ? env[name] : undefined;
    if (value !== undefined && !sasl) problems.push(`${name} is set but --sasl is not given`);
    if (value !== undefined && sasl && brokers.value !== undefined) {
      problems.push(`${name} only applies to a broker started here, not to KAFKA_BROKERS`);
    }
    return { name, value };
  };
  const c = validate(schema, {
    port: flagOrEnv("port", values.port, env, "KAFKA_PORT", "9092"),
    controllerPort: flag("controller-port", values["controller-port"]),
    topicPrefix,
    external: brokers,
    access,
    admin: password("admin"),
    orchestrator: password("orchestrator"),
    driver: password("driver"),
  }, problems);
  const passwords: Partial<Record<SaslUser, string>> = {};
  for (const user of SASL_USERS) if (c[user] !== undefined) passwords[user] = c[user];
  return {
    port: c.port,
    controllerPort: c.controllerPort ?? c.port + 1,
    wipe: values.wipe === true,
    fetchOnly: values.fetch === true,
    topicPrefix: c.topicPrefix,
    external: c.external,
    access: c.access,
    sasl: sasl ? { passwords } : undefined,
  };
}
