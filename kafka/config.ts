/** Configuration of `deno task kafka`: a pure function of environment and arguments. */
import { z } from "zod";
import { type Env, flag, flagOrEnv, readArgs, validate } from "../shared/cli_args.ts";
import {
  brokersText,
  kafkaEnv,
  portText,
  topicPrefixText,
  wholeNumberText,
} from "../shared/config.ts";
import { type KafkaAccess, kafkaAccessSchema } from "../shared/kafka_access.ts";
import { HELP, type Help, UsageError } from "../shared/usage_error.ts";
import {
  type Endpoint,
  hostNodeLayout,
  localClusterLayout,
  MAX_LOCAL_NODES,
  MAX_NODE_ID,
  type NodeLayout,
  parseEndpoint,
  parseVoters,
  singleNodeLayout,
  type Voter,
} from "./cluster_layout.ts";
import { PASSWORD_PATTERN, passwordVariable, SASL_USERS, type SaslUser } from "./sasl_users.ts";

/** What `deno task kafka` was asked to do. */
export interface KafkaTaskConfig {
  /**
   * The nodes this process runs: one (alone on loopback, or one voter of a cluster on several
   * hosts), or every node of a `--nodes N` cluster on this machine.
   */
  nodes: NodeLayout[];
  /** `--data-dir`: the node's data dir; with `--nodes`, the folder of one `node-<id>` per node. */
  dataDir: string | undefined;
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
  `Usage: deno task kafka [--port N] [--controller-port N | --nodes N] [--wipe] [--fetch]
                       [--prefix P] [--sasl] [--data-dir DIR]
       deno task kafka --node-id N --listen ADDR:PORT [--advertise HOST:PORT]
                       --controllers 1@H1:PORT,2@H2:PORT,... [--data-dir DIR] [options]

Starts Apache Kafka (KRaft; each node a broker and a controller), creates surge's topics once
every node is up (replication factor min(3, nodes), min.insync.replicas 2 with 3 copies, the
metrics topic with 6 partitions) and runs in the foreground until Ctrl-C.
  --port N             client port (default 9092, or KAFKA_PORT)
  --controller-port N  KRaft controller port of a single node (default: port + 1)
  --nodes N            a cluster of N nodes (1-${MAX_LOCAL_NODES}) on 127.0.0.1: clients on port,
                       port + 2, ...; controllers on port + 1, port + 3, ...
  --node-id N          run node N of a cluster spread over hosts (one node per host), with:
  --listen ADDR:PORT   where its client listener binds (0.0.0.0 needs --advertise)
  --advertise H:PORT   the address clients are told to use (default: --listen)
  --controllers LIST   every node's controller as id@host:port, the same list on every node;
                       this node's controller binds its --listen address at its port here
  --data-dir DIR       data directory (default .data/kafka-<port>; with --nodes,
                       DIR/node-<id> per node)
  --wipe               delete the broker's data directory first
  --fetch              only download Kafka's jars into the cache (Maven), then exit
  --prefix P           topic-name prefix (default SURGE_TOPIC_PREFIX or none)
  --sasl               SASL_PLAINTEXT with SCRAM-SHA-512 users admin, orchestrator and driver,
                       and ACLs: only the orchestrator may write test_config and trigger, only
                       drivers register, metrics and heartbeat. Passwords come from
                       SURGE_KAFKA_ADMIN_PASSWORD, SURGE_KAFKA_ORCHESTRATOR_PASSWORD and
                       SURGE_KAFKA_DRIVER_PASSWORD, or are drawn on the first start; each is
                       kept in <data dir>/sasl/<user>.password (mode 0600). With --node-id, every
                       node needs the same three passwords in those variables
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

/** A `--listen`/`--advertise` text → its endpoint. */
const endpointText = z.string().transform((text, ctx): Endpoint => {
  try {
    return parseEndpoint(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be host:port with a port 1-65535" });
    return z.NEVER;
  }
});

/** A `--controllers` text → the voters. */
const votersText = z.string().transform((text, ctx): Voter[] => {
  try {
    return parseVoters(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

const schema = z.object({
  port: portText,
  controllerPort: portText.optional(),
  nodes: wholeNumberText(1, MAX_LOCAL_NODES),
  nodeId: wholeNumberText(1, MAX_NODE_ID).optional(),
  listen: endpointText.optional(),
  advertise: endpointText.optional(),
  controllers: votersText.optional(),
  dataDir: z.string().min(1).optional(),
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
    nodes: { type: "string" },
    "node-id": { type: "string" },
    listen: { type: "string" },
    advertise: { type: "string" },
    controllers: { type: "string" },
    "data-dir": { type: "string" },
  });
  if (help) return HELP;
  const hostFlags = (["node-id", "listen", "advertise", "controllers"] as const).filter((f) =>
    values[f] !== undefined
  );
  const hostMode = hostFlags.length > 0;
  if (hostMode) {
    for (const f of ["node-id", "listen", "controllers"] as const) {
      if (values[f] === undefined) problems.push(`--${f} is required with --${hostFlags[0]}`);
    }
    for (const f of ["port", "controller-port", "nodes"] as const) {
      if (values[f] !== undefined) problems.push(`--${f} does not go with --${hostFlags[0]}`);
    }
  }
  if (values.nodes !== undefined && values["controller-port"] !== undefined) {
    problems.push(
      "--controller-port does not go with --nodes (controllers are port + 1, + 3, ...)",
    );
  }
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
    // Each host would draw its own: the nodes of one cluster must share them.
    if (value === undefined && sasl && hostMode && brokers.value === undefined) {
      problems.push(`${name} is required with --sasl and --node-id (the same on every node)`);
    }
    return { name, value };
  };
  if (brokers.value !== undefined && (hostMode || values.nodes !== undefined)) {
    problems.push(
      `KAFKA_BROKERS names an existing cluster: --${hostFlags[0] ?? "nodes"} starts no broker`,
    );
  }
  const c = validate(schema, {
    port: flagOrEnv("port", values.port, env, "KAFKA_PORT", "9092"),
    controllerPort: flag("controller-port", values["controller-port"]),
    nodes: flag("nodes", values.nodes, "1"),
    nodeId: flag("node-id", values["node-id"]),
    listen: flag("listen", values.listen),
    advertise: flag("advertise", values.advertise),
    controllers: flag("controllers", values.controllers),
    dataDir: flag("data-dir", values["data-dir"]),
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
    nodes: nodeLayouts(c),
    dataDir: c.dataDir,
    wipe: values.wipe === true,
    fetchOnly: values.fetch === true,
    topicPrefix: c.topicPrefix,
    external: c.external,
    access: c.access,
    sasl: sasl ? { passwords } : undefined,
  };
}

/** The nodes a valid config asks for; a layout that cannot work is a usage error. */
function nodeLayouts(c: z.output<typeof schema>): NodeLayout[] {
  try {
    if (c.nodeId !== undefined && c.listen && c.controllers) {
      return [hostNodeLayout(c.nodeId, c.listen, c.advertise, c.controllers)];
    }
    if (c.nodes > 1) return localClusterLayout(c.port, c.nodes);
    return [singleNodeLayout(c.port, c.controllerPort ?? c.port + 1)];
  } catch (err) {
    throw new UsageError([(err as Error).message]);
  }
}
