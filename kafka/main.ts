/**
 * `deno task kafka`: runs a local single-node Kafka broker in the foreground with surge's topics,
 * until Ctrl-C or SIGTERM. With KAFKA_BROKERS set, only creates the topics on that cluster.
 */
import { KAFKA_USAGE, parseKafkaConfig } from "./config.ts";
import { defaultPaths, ensureKafkaJars, KAFKA_VERSION } from "./jars.ts";
import { startLocalBroker } from "./local_broker.ts";
import { lazyEnv } from "../shared/cli_args.ts";
import { isListening } from "../shared/probe.ts";
import { ensureTopics } from "../shared/kafka.ts";
import { topicNames } from "../shared/topics.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { Kafka, logLevel } from "kafkajs";

const say = (line: string) => console.error(`[kafka] ${line}`);

async function main(): Promise<number> {
  const config = parseOrExit(
    "kafka",
    KAFKA_USAGE,
    () => parseKafkaConfig(lazyEnv((name) => Deno.env.get(name)), Deno.args),
  );
  if (config.fetchOnly) {
    const libs = await ensureKafkaJars(defaultPaths(config.port), KAFKA_VERSION, say);
    console.log(`Kafka ${KAFKA_VERSION} jars are in ${libs}`);
    return 0;
  }
  const topics = topicNames(config.topicPrefix);
  if (config.external) {
    await ensureTopics(
      new Kafka({ brokers: config.external, logLevel: logLevel.NOTHING }).admin(),
      topics,
    );
    console.log(
      `Kafka at ${
        config.external.join(",")
      } (KAFKA_BROKERS) has surge's topics; not starting a broker.`,
    );
    return 0;
  }
  for (const port of [config.port, config.controllerPort]) {
    if (await isListening(port)) {
      say(
        `Port ${port} on 127.0.0.1 is already in use (is a broker already running?). Use --port.`,
      );
      return 1;
    }
  }
  const paths = defaultPaths(config.port);
  const started = Date.now();
  const broker = await startLocalBroker({
    port: config.port,
    controllerPort: config.controllerPort,
    paths,
    wipe: config.wipe,
    topics,
    log: say,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `Kafka ${KAFKA_VERSION} ready on ${broker.brokers.join(",")} in ${seconds}s ` +
      `(topics: ${
        Object.values(topics).join(", ")
      }; data: ${paths.dataDir}; log: ${broker.logFile}). Ctrl-C stops it.`,
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    say("stopping...");
    broker.stop().then(() => {
      say("stopped");
      Deno.exit(0);
    });
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  const code = await broker.exited;
  if (!stopping) {
    say(`broker exited unexpectedly with code ${code}; see ${broker.logFile}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    say((err as Error).message);
    Deno.exit(1);
  }
}
