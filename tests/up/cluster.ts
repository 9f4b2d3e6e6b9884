/**
 * A whole surge cluster for end-to-end tests, started the way a user starts it: `up/main.ts`
 * as a subprocess, on free ports, with the test run's Kafka (KAFKA_BROKERS), a unique topic
 * prefix and a temporary data dir, where the orchestrator generates its API token (`up` prints
 * it). Stop it in a `finally`.
 */
import { testBrokers, uniquePrefix } from "../support/kafka.ts";
import { freePort, ProcessGroup, type TestProcess } from "../support/processes.ts";

/** A running cluster. */
export interface TestCluster {
  /** The orchestrator (and dashboard) base URL, without a trailing slash. */
  base: string;
  /** The target's /ping URL. */
  target: string;
  /** The API token, as `up` printed it. */
  token: string;
  /** The orchestrator's data dir (its api_token file is there). */
  dataDir: string;
  up: TestProcess;
  /** Child pids as `up` reported them, by name. */
  pids: Map<string, number>;
  /** SIGINTs `up` (as Ctrl-C does), waits for it and removes the data dir. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Starts `up` with `drivers` drivers (one worker each) and waits until it says it is up. */
export async function startCluster(
  drivers = 2,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<TestCluster> {
  const port = freePort();
  const targetPort = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "surge-up-test-" });
  const group = new ProcessGroup();
  // Blank counts as unset: the orchestrator generates its token, whatever the test run's env.
  const up = group.spawnDeno("up", [
    "run",
    "-A",
    "up/main.ts",
    "--port",
    String(port),
    "--target-port",
    String(targetPort),
    "--data-dir",
    dataDir,
    "--drivers",
    String(drivers),
    "--workers",
    "1",
    ...extraArgs,
  ], {
    KAFKA_BROKERS: testBrokers().join(","),
    SURGE_TOPIC_PREFIX: uniquePrefix("up"),
    SURGE_API_TOKEN: "",
    ...env,
  });
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = () =>
    stopped ??= up.stop({ signal: "SIGINT", graceMs: 30_000 }).finally(() =>
      Deno.remove(dataDir, { recursive: true }).catch(() => {})
    );
  try {
    await up.waitForOutput(/surge is up/, 180_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const pids = new Map<string, number>();
  for (const m of up.output().matchAll(/up: started (\S+) \(pid (\d+)\)/g)) {
    pids.set(m[1]!, Number(m[2]));
  }
  return {
    base: `http://127.0.0.1:${port}`,
    target: `http://127.0.0.1:${targetPort}/ping`,
    token: up.output().match(/API token: +(\S+)/)?.[1] ?? "",
    dataDir,
    up,
    pids,
    stop,
  };
}

/** True while a process with this pid exists (and is not a zombie). */
export async function processExists(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Pids of the processes whose command line contains `needle` (read from /proc). */
export async function pidsWith(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(needle)) pids.push(Number(entry.name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
