/**
 * `deno task driver`: the only driver file that touches the world (env, args, Kafka, signals).
 * `deno task driver <node_id>` runs a Kafka driver node; `--local <url>` runs one test locally.
 */
import { DRIVER_USAGE, type LocalConfig, parseDriverConfig } from "./config.ts";
import { formatSummary, localSummary } from "./local.ts";
import { startTest } from "./pool.ts";

async function runLocal(config: LocalConfig): Promise<number> {
  const test = startTest(config.spec, {
    workers: config.workers,
    reportMs: config.reportMs,
    onReport: config.json ? undefined : (r) => {
      if (!r.final) {
        console.error(
          `${(r.elapsedMs / 1000).toFixed(1)}s  ${r.responses} responses  ` +
            `${Math.round(r.intervalRps)}/s  ${r.errors} errors`,
        );
      }
    },
  });
  const stop = () => test.stop();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const report = await test.done;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  const summary = localSummary(report);
  if (config.json) console.log(JSON.stringify(summary));
  else console.log(formatSummary(summary, config.spec.intervalMs > 0));
  if (report.error !== undefined) {
    console.error(`surge driver: ${report.error}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  let config;
  try {
    config = parseDriverConfig(Deno.env.toObject(), Deno.args, navigator.hardwareConcurrency);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${DRIVER_USAGE}`);
    Deno.exit(2);
  }
  switch (config.mode) {
    case "help":
      console.log(DRIVER_USAGE);
      Deno.exit(0);
      break;
    case "local":
      Deno.exit(await runLocal(config));
      break;
    case "node":
      console.error("driver node mode: not built yet");
      Deno.exit(1);
  }
}
