/**
 * `deno task test`: makes sure a Kafka broker is available (KAFKA_BROKERS, one already on
 * 127.0.0.1:9092, or a fresh one started here), runs `deno test` with KAFKA_BROKERS set, and
 * stops the broker afterwards if it started it. Extra arguments go to `deno test`.
 */
import { defaultPaths } from "../kafka/jars.ts";
import { startLocalBroker } from "../kafka/local_broker.ts";
import { isListening } from "../shared/probe.ts";
import { killQuietly } from "../shared/process.ts";
import { StallWatchdog } from "./support/stall_watchdog.ts";
import { singleNodeLayout } from "../kafka/cluster_layout.ts";

const say = (line: string) => console.error(`[test] ${line}`);
const DEV_PORT = 9092;
const TEST_PORT = Number(Deno.env.get("SURGE_TEST_KAFKA_PORT") ?? "19092");
/**
 * A test that prints nothing for this long hangs: the run is stopped and fails, so a hung test
 * fails CI instead of holding it for 90 minutes. The slowest test here prints within a minute.
 */
const STALL_MS = 180_000;

async function main(): Promise<number> {
  const env: Record<string, string> = {};
  let stop: (() => Promise<void>) | undefined;
  if (Deno.env.get("KAFKA_BROKERS")) {
    say(`using Kafka at ${Deno.env.get("KAFKA_BROKERS")} (KAFKA_BROKERS)`);
  } else if (await isListening(DEV_PORT)) {
    env.KAFKA_BROKERS = `127.0.0.1:${DEV_PORT}`;
    say(`using the Kafka broker already listening on 127.0.0.1:${DEV_PORT}`);
  } else {
    const dataDir = await Deno.makeTempDir({ prefix: "surge-test-kafka-" });
    const started = Date.now();
    say(`starting a Kafka broker on 127.0.0.1:${TEST_PORT} for this run...`);
    const broker = await startLocalBroker({
      node: singleNodeLayout(TEST_PORT),
      paths: { ...defaultPaths(TEST_PORT), dataDir },
      wipe: true,
      heap: "768m",
      log: say,
    });
    say(`Kafka ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    env.KAFKA_BROKERS = broker.brokers.join(",");
    stop = async () => {
      await broker.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    };
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", ...Deno.args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const onSignal = () => child.kill("SIGINT");
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const watchdog = new StallWatchdog(STALL_MS, (test) => {
    say(`no test output for ${STALL_MS / 1000} s: "${test}" hangs; stopping the run`);
    killQuietly(child, "SIGTERM");
    setTimeout(() => killQuietly(child, "SIGKILL"), 10_000);
  });
  const [status] = await Promise.all([
    child.status,
    relay(child.stdout, Deno.stdout, watchdog),
    relay(child.stderr, Deno.stderr, watchdog),
  ]);
  watchdog.close();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  if (stop) {
    say("stopping the test broker");
    await stop();
  }
  return watchdog.fired ? 1 : status.code;
}

/** Copies a child's stream to ours, telling the watchdog about every chunk. */
async function relay(
  from: ReadableStream<Uint8Array>,
  to: { write(p: Uint8Array): Promise<number> },
  watchdog: StallWatchdog,
): Promise<void> {
  for await (const chunk of from) {
    watchdog.saw(chunk);
    let written = 0;
    while (written < chunk.length) written += await to.write(chunk.subarray(written));
  }
}

Deno.exit(await main());
