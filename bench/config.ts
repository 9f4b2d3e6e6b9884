/** Configuration of `deno task bench`: a pure function of environment and arguments. */
import { z } from "zod";
import { type Env, flag, readArgs, validate } from "../shared/cli_args.ts";
import { numberText, wholeNumberText } from "../shared/config.ts";
import { HELP, type Help } from "../shared/usage_error.ts";

/** Usage text for `deno task bench`. */
export const BENCH_USAGE =
  `Usage: deno task bench [--connections N] [--duration S] [--repeat N] [--quick]
  --connections N  connections for the throughput runs (default 50)
  --duration S     seconds per throughput run (default 5)
  --repeat N       runs per tool, interleaved (default 2)
  --quick          1 run each, 3 s, shorter pacing runs`;

const schema = z.object({
  /** Connections for the throughput runs. */
  connections: wholeNumberText(1, 1000),
  /** Seconds per throughput run. */
  duration: numberText(1, 60),
  /** Runs per tool, interleaved. */
  repeat: wholeNumberText(1, 10),
});

/** What `deno task bench` was asked to measure. */
export type BenchConfig = z.output<typeof schema> & {
  /** Seconds per pacing-accuracy run. */
  paceSeconds: number;
};

const FLAGS = {
  quick: { type: "boolean" },
  connections: { type: "string" },
  duration: { type: "string" },
  repeat: { type: "string" },
} as const;

/** Parses flags; throws a UsageError listing every problem at once. */
export function parseBenchConfig(_env: Env, args: readonly string[]): BenchConfig | Help {
  const { help, values, problems } = readArgs(args, FLAGS);
  if (help) return HELP;
  const quick = values.quick === true;
  const config = validate(schema, {
    connections: flag("connections", values.connections, "50"),
    duration: flag("duration", values.duration, quick ? "3" : "5"),
    repeat: flag("repeat", values.repeat, quick ? "1" : "2"),
  }, problems);
  return { ...config, paceSeconds: quick ? 2 : 3 };
}
