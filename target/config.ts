/** Configuration of the target server: a pure function of environment and arguments. */
import { parseArgs } from "node:util";
import { parsePort } from "../shared/config.ts";

/** Where the target listens. */
export interface TargetConfig {
  hostname: string;
  port: number;
  help: boolean;
}

/** Usage text for `deno task target`. */
export const TARGET_USAGE = `Usage: deno task target [--port N] [--host ADDR]

Serves the surge target: GET /ping, GET /metrics (JSON or ?format=prometheus), POST /metrics/reset.
  --port N     port (default 8080, or PORT)
  --host ADDR  address to bind (default 127.0.0.1, or HOST)`;

/** Parses flags and env; throws RangeError listing every problem at once. */
export function parseTargetConfig(
  env: Record<string, string | undefined>,
  args: string[],
): TargetConfig {
  const problems: string[] = [];
  let values: Record<string, string | boolean | undefined> = {};
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    problems.push((err as Error).message);
  }
  const port = parsePort(
    String(values.port ?? env.PORT ?? "8080"),
    values.port ? "--port" : "PORT",
    problems,
  );
  const hostname = String(values.host ?? env.HOST ?? "127.0.0.1");
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  return { hostname, port, help: values.help === true };
}
