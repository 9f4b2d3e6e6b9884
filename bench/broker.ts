/**
 * The Kafka broker the bench's cluster sections use: KAFKA_BROKERS, else a broker already
 * listening on 127.0.0.1:9092, else one started for the bench on free ports with a throwaway data
 * dir, stopped at the end. Each section works on its own topic prefix, so a shared broker is fine.
 */
import { defaultPaths } from "../kafka/jars.ts";
import { singleNodeLayout } from "../kafka/cluster_layout.ts";
import { startLocalBroker } from "../kafka/local_broker.ts";
import { isListening } from "../shared/probe.ts";
import { freePort, say } from "./runner.ts";

/** A broker to use, and how to stop it if the bench started it. */
export interface BenchBroker {
  brokers: string[];
  stop(): Promise<void>;
}

const DEV_PORT = 9092;

/** Finds or starts the bench's broker. */
export async function benchBroker(configured: string[] | undefined): Promise<BenchBroker> {
  const none = { stop: () => Promise.resolve() };
  if (configured) return { brokers: configured, ...none };
  if (await isListening(DEV_PORT)) return { brokers: [`127.0.0.1:${DEV_PORT}`], ...none };
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "surge-bench-kafka-" });
  say(`starting a Kafka broker on 127.0.0.1:${port} for the bench...`);
  try {
    const broker = await startLocalBroker({
      node: singleNodeLayout(port, freePort()),
      paths: { ...defaultPaths(port), dataDir },
      wipe: true,
      heap: "512m",
      log: say,
    });
    return {
      brokers: broker.brokers,
      stop: async () => {
        await broker.stop();
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      },
    };
  } catch (err) {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw err;
  }
}
