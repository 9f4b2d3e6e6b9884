/** Configuration of `deno task bench`: a pure function of environment and arguments. */
import { z } from "zod";
import { type Env, flag, readArgs, validate } from "../shared/cli_args.ts";
import { brokersText, numberText, wholeNumberText } from "../shared/config.ts";
import { HELP, type Help } from "../shared/usage_error.ts";

/** The bench's sections, in the order they run. */
export const SECTIONS = [
  "throughput",
  "rate",
  "tsunami",
  "target",
  "cpu",
  "staleness",
  "aggregation",
] as const;
/** One of {@link SECTIONS}. */
export type Section = typeof SECTIONS[number];

/** Usage text for `deno task bench`. */
export const BENCH_USAGE =
  `Usage: deno task bench [--only SECTION,...] [--connections N] [--duration S] [--repeat N]
                       [--aggregation-age S] [--quick]
  --only SECTION   run only these sections (comma-separated): ${SECTIONS.join(", ")}
  --connections N  connections for the throughput runs (default 50)
  --duration S     seconds per throughput and CPU-per-request run (default 5)
  --repeat N       runs per tool, interleaved (default 2)
  --aggregation-age S
                   seconds into its test each synthetic driver is when the aggregation run
                   starts reporting, 0 to 3600: a long test's reports are larger (default 0)
  --quick          1 run each, 3 s, shorter pacing and aggregation runs
Uses the Kafka broker in KAFKA_BROKERS, else one on 127.0.0.1:9092, else starts its own.`;

const sectionList = z.string().transform((text, ctx) => {
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const name of names) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      ctx.addIssue({ code: "custom", message: `unknown section "${name}"` });
    }
  }
  if (names.length === 0) ctx.addIssue({ code: "custom", message: "names no section" });
  return names as Section[];
});

const schema = z.object({
  /** Connections for the throughput runs. */
  connections: wholeNumberText(1, 1000),
  /** Seconds per throughput run. */
  duration: numberText(1, 60),
  /** Runs per tool, interleaved. */
  repeat: wholeNumberText(1, 10),
  /** The sections to run. */
  only: sectionList,
  /** How old the aggregation run's test is when its reports start. */
  aggregationAge: wholeNumberText(0, 3_600),
  /** KAFKA_BROKERS; unset: a broker on 127.0.0.1:9092 if one listens, else the bench's own. */
  brokers: brokersText.optional(),
});

/** What `deno task bench` was asked to measure. */
export type BenchConfig = z.output<typeof schema> & {
  /** Seconds per pacing-accuracy run. */
  paceSeconds: number;
  /** Seconds per measured window of the aggregation run. */
  aggregationSeconds: number;
  /** Loaded windows of the aggregation run, each between two with the reports held. */
  aggregationCycles: number;
};

const FLAGS = {
  quick: { type: "boolean" },
  only: { type: "string" },
  connections: { type: "string" },
  duration: { type: "string" },
  repeat: { type: "string" },
  "aggregation-age": { type: "string" },
} as const;

/** Parses flags; throws a UsageError listing every problem at once. */
export function parseBenchConfig(env: Env, args: readonly string[]): BenchConfig | Help {
  const { help, values, problems } = readArgs(args, FLAGS);
  if (help) return HELP;
  const quick = values.quick === true;
  const config = validate(schema, {
    connections: flag("connections", values.connections, "50"),
    duration: flag("duration", values.duration, quick ? "3" : "5"),
    repeat: flag("repeat", values.repeat, quick ? "1" : "2"),
    only: flag("only", values.only, SECTIONS.join(",")),
    aggregationAge: flag("aggregation-age", values["aggregation-age"], "0"),
    brokers: { name: "KAFKA_BROKERS", value: env.KAFKA_BROKERS?.trim() || undefined },
  }, problems);
  return {
    ...config,
    paceSeconds: quick ? 2 : 3,
    aggregationSeconds: quick ? 5 : 10,
    aggregationCycles: quick ? 2 : 4,
  };
}
