/**
 * A one-off memory check: runs the local engine at full speed for 60 s (or --duration S) against
 * the target and samples the driver process's RSS every 5 s, to show it stays flat.
 * `deno run --allow-run --allow-net --allow-env bench/memory.ts [--duration S]`
 */
import { z } from "zod";
import denoJson from "../deno.json" with { type: "json" };
import { flag, readArgs, validate } from "../shared/cli_args.ts";
import { numberText } from "../shared/config.ts";
import { HELP, type Help, parseOrExit } from "../shared/usage_error.ts";
import { taskCommand } from "../up/plan.ts";
import { sleep } from "../shared/async.ts";
import { killQuietly } from "../shared/process.ts";

const ROOT = new URL("..", import.meta.url).pathname;

const USAGE = `Usage: deno run --allow-run --allow-net --allow-env bench/memory.ts [--duration S]
  --duration S  seconds of full-speed load (default 60)`;

/** How long to run, from the arguments. */
export function parseMemoryConfig(args: readonly string[]): { seconds: number } | Help {
  const { help, values, problems } = readArgs(args, { duration: { type: "string" } });
  if (help) return HELP;
  return validate(z.object({ seconds: numberText(1, 86_400) }), {
    seconds: flag("duration", values.duration, "60"),
  }, problems);
}

/** Resident set size via `ps` (Deno allows reading /proc/<pid> only with --allow-all). */
async function rssMiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !(kb > 0)) throw new Error(`no process ${pid}`);
  return kb / 1024;
}

if (import.meta.main) {
  const { seconds } = parseOrExit(
    "memory",
    USAGE,
    () => parseMemoryConfig(Deno.args),
  );
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const deno = Deno.execPath();
  const target = new Deno.Command("taskset", {
    args: [
      "-c",
      "0",
      deno,
      "run",
      "--allow-net",
      "--allow-env",
      "target/main.ts",
      "--port",
      String(port),
    ],
    cwd: ROOT,
    stdout: "null",
  }).spawn();
  let driver: Deno.ChildProcess | undefined;
  try {
    await sleep(1500);
    driver = new Deno.Command("taskset", {
      args: [
        "-c",
        "1",
        deno,
        ...taskCommand(denoJson.tasks, "driver", deno).args,
        "--local",
        `http://127.0.0.1:${port}/ping`,
        "--connections",
        "50",
        "--workers",
        "1",
        "--duration",
        String(seconds),
        "--json",
      ],
      cwd: ROOT,
      stdout: "piped",
    }).spawn();
    const samples: [number, number][] = [];
    const started = performance.now();
    const output = driver.output();
    for (let t = 0; t <= seconds; t += 5) {
      await sleep(Math.max(0, started + t * 1000 - performance.now()));
      try {
        samples.push([t, await rssMiB(driver.pid)]);
        console.error(`t=${String(t).padStart(3)}s  RSS ${samples.at(-1)![1].toFixed(1)} MiB`);
      } catch (err) {
        console.error(`cannot read the driver's RSS: ${(err as Error).message}`);
        break;
      }
    }
    const result = new TextDecoder().decode((await output).stdout).trim();
    const steady = samples.filter(([t]) => t >= 10).map(([, m]) => m);
    console.log(result);
    if (steady.length === 0) {
      console.log("No samples after the 10 s warm-up: use --duration 15 or more.");
    } else {
      console.log(
        `RSS after warm-up (t>=10s): min ${Math.min(...steady).toFixed(1)} MiB, max ${
          Math.max(...steady).toFixed(1)
        } MiB, first ${steady[0]!.toFixed(1)} -> last ${steady.at(-1)!.toFixed(1)} MiB`,
      );
    }
  } finally {
    if (driver) killQuietly(driver, "SIGKILL");
    target.kill("SIGTERM");
    await target.status;
  }
}
