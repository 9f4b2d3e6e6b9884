/** Configuration of the target server: a pure function of environment and arguments. */
import { z } from "zod";
import { type Env, flagOrEnv, readArgs, validate } from "../shared/cli_args.ts";
import { portText } from "../shared/config.ts";
import { HELP, type Help } from "../shared/usage_error.ts";

const schema = z.object({ hostname: z.string().min(1), port: portText });

/** Where the target listens. */
export type TargetConfig = z.output<typeof schema>;

/** Usage text for `deno task target`. */
export const TARGET_USAGE = `Usage: deno task target [--port N] [--host ADDR]

Serves the surge target: GET /ping, GET /metrics (JSON or ?format=prometheus), POST /metrics/reset.
  --port N     port (default 8080, or PORT)
  --host ADDR  address to bind (default 127.0.0.1, or HOST)`;

/** Parses flags and env; throws a UsageError listing every problem at once. */
export function parseTargetConfig(env: Env, args: readonly string[]): TargetConfig | Help {
  const { help, values, problems } = readArgs(args, {
    port: { type: "string" },
    host: { type: "string" },
  });
  if (help) return HELP;
  return validate(schema, {
    hostname: flagOrEnv("host", values.host, env, "HOST", "127.0.0.1"),
    port: flagOrEnv("port", values.port, env, "PORT", "8080"),
  }, problems);
}
