/**
 * What `deno task up` starts, in order, as data: each child's command line (taken from the
 * deno.json task of the same name, so permissions live in one place), its environment and how
 * to tell it is ready. Pure, so the plan is tested without starting anything.
 */
import type { UpConfig } from "./config.ts";

/** How `up` knows a child is ready before starting the next one. */
export type Readiness =
  | { kind: "http"; url: string }
  /** Drivers: ready once the orchestrator lists them as alive (checked for all at once). */
  | { kind: "driver"; nodeId: string };

/** One child process of the cluster. */
export interface ProcessSpec {
  name: string;
  cmd: string;
  args: string[];
  env: Record<string, string>;
  ready: Readiness;
}

const NUMBER_WORDS = [
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
  "twenty",
];

/** Driver names: one, two, three, ... (the seed's `d1.py one`), `driver-21` beyond twenty. */
export function driverNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => NUMBER_WORDS[i] ?? `driver-${i + 1}`);
}

/**
 * The command of a deno.json task that is a plain `deno run ... file.ts`, with `deno` replaced
 * by this Deno's executable. Running it directly (not through `deno task`) keeps one process per
 * child, so stopping a child cannot leave a grandchild behind. `grants` are permission flags
 * added to the task's own (Deno merges repeated `--allow-*` flags); `extraArgs` go to the script.
 */
export function taskCommand(
  tasks: Record<string, string>,
  name: string,
  execPath: string,
  extraArgs: readonly string[] = [],
  grants: readonly string[] = [],
): { cmd: string; args: string[] } {
  const line = tasks[name];
  if (line === undefined) throw new TypeError(`deno.json has no "${name}" task`);
  if (/[|&;<>()$`"'\\]/.test(line)) {
    throw new TypeError(`The "${name}" task is not a plain command: ${line}`);
  }
  const words = line.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new TypeError(`The "${name}" task does not start with "deno run": ${line}`);
  }
  return { cmd: execPath, args: ["run", ...grants, ...words.slice(2), ...extraArgs] };
}

/** The children in start order: target, orchestrator, then the drivers. */
export function buildPlan(
  config: UpConfig,
  brokers: readonly string[],
  tasks: Record<string, string>,
  execPath: string,
): ProcessSpec[] {
  const env: Record<string, string> = {
    KAFKA_BROKERS: brokers.join(","),
    SURGE_TOPIC_PREFIX: config.topicPrefix,
  };
  const target = taskCommand(tasks, "target", execPath, ["--port", String(config.targetPort)]);
  // The task may reach 127.0.0.1 and use `.data` only (README "Least privilege"): `up` grants
  // the orchestrator the brokers and the data dir it chose for it, wherever they are.
  const dataDir = config.dataDir === undefined
    ? []
    : [`--allow-read=${config.dataDir}`, `--allow-write=${config.dataDir}`];
  const orchestrator = taskCommand(tasks, "orchestrator", execPath, [
    "--port",
    String(config.orchestratorPort),
    ...(config.dataDir === undefined ? [] : ["--data-dir", config.dataDir]),
  ], [`--allow-net=${brokers.join(",")}`, ...dataDir]);
  const specs: ProcessSpec[] = [
    {
      name: "target",
      ...target,
      env,
      ready: { kind: "http", url: `http://127.0.0.1:${config.targetPort}/metrics` },
    },
    {
      name: "orchestrator",
      ...orchestrator,
      env,
      ready: { kind: "http", url: `http://127.0.0.1:${config.orchestratorPort}/healthz` },
    },
  ];
  for (const name of driverNames(config.drivers)) {
    const workers = config.workers === undefined ? [] : ["--workers", String(config.workers)];
    specs.push({
      name,
      ...taskCommand(tasks, "driver", execPath, [name, ...workers]),
      env,
      ready: { kind: "driver", nodeId: name },
    });
  }
  return specs;
}
