/**
 * The command line of `deno task loadtest`: a pure function of environment and arguments that
 * returns one command or throws a UsageError listing every problem at once (exit 2). Each
 * subcommand has its own parser; a test's flags are checked by the REST API's own schema
 * (shared/test_flags.ts), so the CLI cannot accept a test the orchestrator would refuse.
 */
import { z } from "zod";
import {
  checkAll,
  type Env,
  flag,
  flagOrEnv,
  flagsNotFor,
  type FlagValues,
  readArgs,
  validate,
} from "../shared/cli_args.ts";
import { baseUrlText } from "../shared/config.ts";
import { TEST_FLAGS, testParamsFromFlags } from "../shared/test_flags.ts";
import { HELP, type Help, UsageError } from "../shared/usage_error.ts";
import type { TestParams } from "../shared/api.ts";
import { parseThresholds, type Threshold } from "./threshold.ts";

const REPORT_FORMATS = ["json", "csv", "html"] as const;

/** Formats `loadtest report` can write. */
export type ReportFormat = typeof REPORT_FORMATS[number];

/** What the user asked for. */
export type CliCommand =
  | {
    kind: "run";
    orchestrator: string;
    params: TestParams;
    thresholds: Threshold[];
    json: boolean;
  }
  | { kind: "list"; orchestrator: string; json: boolean }
  | { kind: "show" | "stop" | "delete"; orchestrator: string; testId: string; json: boolean }
  | {
    kind: "report";
    orchestrator: string;
    testId: string;
    format: ReportFormat;
    out: string | undefined;
  };

/** Usage text. */
export const LOADTEST_USAGE = `Usage:
  deno task loadtest --target URL [options]      create and run a test, show progress and a summary
  deno task loadtest list                        the tests the orchestrator knows, newest first
  deno task loadtest show ID                     one test's result
  deno task loadtest stop ID                     stop a running test
  deno task loadtest delete ID                   delete a settled test with its results
  deno task loadtest report ID --format json|csv|html [--out FILE]

Test options:
  --target URL          the URL every driver requests (http:// or https://)
  --type T              avalanche (default: as fast as possible, or --rate) or tsunami (--delay)
  --count N             requests per driver (default 1000; 0 = until --duration)
  --delay MS            ms between requests on each driver (tsunami; default 10)
  --rate R              requests per second per driver (avalanche; default: as fast as possible)
  --duration S          stop after S seconds at the latest
  --connections N       keep-alive connections per driver (default 10)
  --timeout MS          per-request timeout (default 10000)
  --drivers a,b         only these drivers (default: every alive driver)
  --threshold EXPR      fail (exit 1) unless it holds on the merged result; repeatable.
                        p99<250ms  p95<=1s  median<5ms  max<2s  error_rate<1%  rps>1000  errors==0
                        (error_rate counts transport errors and HTTP statuses >= 400)
  --json                print the final test resource as one JSON line instead of the table
Common options:
  --orchestrator URL    the orchestrator (default http://127.0.0.1:8000, or SURGE_ORCHESTRATOR)
  -h, --help            this text
The API token: SURGE_API_TOKEN, else the api_token file in SURGE_DATA_DIR (default
.data/orchestrator, where a local orchestrator keeps it).

Exit codes: 0 ok, 1 a threshold failed or the test did not finish, 2 bad usage, 3 API unreachable.`;

const RUN_FLAGS = {
  target: { type: "string" },
  ...TEST_FLAGS,
  drivers: { type: "string" },
  threshold: { type: "string", multiple: true },
} as const;
const REPORT_FLAGS = { format: { type: "string" }, out: { type: "string" } } as const;
const FLAGS = {
  ...RUN_FLAGS,
  ...REPORT_FLAGS,
  json: { type: "boolean" },
  orchestrator: { type: "string" },
} as const;

type Values = FlagValues<typeof FLAGS>;

/** What every subcommand's parser gets. */
interface Parsed {
  values: Values;
  /** The positionals after the subcommand's name. */
  args: string[];
  /** Problems found so far (unknown flags, ...). */
  problems: string[];
  /** Checks and returns the orchestrator's URL. */
  orchestrator: () => string;
}

const SUBCOMMANDS = ["list", "show", "stop", "delete", "report"] as const;

/** Parses `deno task loadtest` arguments; throws a UsageError naming every problem. */
export function parseCliArgs(env: Env, args: readonly string[]): CliCommand | Help {
  const { help, values, positionals, problems } = readArgs(args, FLAGS, { positionals: true });
  if (help) return HELP;
  const orchestrator = () =>
    validate(z.object({ url: baseUrlText }), {
      url: flagOrEnv(
        "orchestrator",
        values.orchestrator,
        env,
        "SURGE_ORCHESTRATOR",
        "http://127.0.0.1:8000",
      ),
    }).url;
  const [sub, ...rest] = positionals;
  const parsed: Parsed = { values, args: rest, problems, orchestrator };
  switch (sub) {
    case undefined:
      return parseRun(parsed);
    case "list":
      return parseList(parsed);
    case "show":
    case "stop":
    case "delete":
      return parseTestCommand(sub, parsed);
    case "report":
      return parseReport(parsed);
    default:
      throw new UsageError([
        ...problems,
        `Unknown command "${sub}" (known: ${
          SUBCOMMANDS.join(", ")
        }; or --target URL to run a test)`,
      ]);
  }
}

function notForRun(values: Values): string[] {
  return flagsNotFor(values, Object.keys(RUN_FLAGS), "only applies when running a test");
}

function notForReport(values: Values): string[] {
  return flagsNotFor(values, Object.keys(REPORT_FLAGS), "only applies to `report`");
}

/** `--target URL [test options]`: create and run a test. */
function parseRun({ values, problems, orchestrator }: Parsed): CliCommand {
  const [url, params, thresholds] = checkAll(
    [...problems, ...notForReport(values)],
    orchestrator,
    () =>
      testParamsFromFlags(values, flag("target", values.target), {
        count: "1000",
        tsunamiDelay: "10",
      }),
    () => parseThresholds(values.threshold ?? []),
  );
  return { kind: "run", orchestrator: url, params, thresholds, json: values.json === true };
}

/** `list`: the tests the orchestrator knows. */
function parseList({ values, args, problems, orchestrator }: Parsed): CliCommand {
  if (args.length > 0) problems.push("`list` takes no arguments");
  const [url] = checkAll(
    [...problems, ...notForRun(values), ...notForReport(values)],
    orchestrator,
  );
  return { kind: "list", orchestrator: url, json: values.json === true };
}

/** `show ID`, `stop ID` and `delete ID`: one test. */
function parseTestCommand(kind: "show" | "stop" | "delete", p: Parsed): CliCommand {
  const [url, testId] = checkAll(
    [...p.problems, ...notForRun(p.values), ...notForReport(p.values)],
    p.orchestrator,
    oneTestId(kind, p.args),
  );
  return { kind, orchestrator: url, testId, json: p.values.json === true };
}

/** `report ID --format F [--out FILE]`: a test's result as a file. */
function parseReport({ values, args, problems, orchestrator }: Parsed): CliCommand {
  const [url, testId, format] = checkAll(
    [
      ...problems,
      ...notForRun(values),
      ...flagsNotFor(values, ["json"], "does not apply to `report` (use --format json)"),
    ],
    orchestrator,
    oneTestId("report", args),
    () =>
      validate(z.object({ format: z.enum(REPORT_FORMATS) }), {
        format: flag("format", values.format, "json"),
      }).format,
  );
  return { kind: "report", orchestrator: url, testId, format, out: values.out };
}

function oneTestId(command: string, args: readonly string[]): () => string {
  return () => {
    if (args.length !== 1) throw new UsageError(`\`${command}\` takes exactly one test id`);
    return args[0]!;
  };
}
