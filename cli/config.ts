/**
 * The command line of `deno task loadtest`: a pure function of arguments and environment that
 * returns one command or throws a RangeError listing every problem at once (exit 2).
 */
import { parseArgs } from "node:util";
import { parseIntIn, parseNumberIn } from "../shared/config.ts";
import type { TestParams } from "../shared/api.ts";
import { parseThresholds, type Threshold } from "./threshold.ts";

/** Formats `loadtest report` can write. */
export type ReportFormat = "json" | "csv" | "html";

/** What the user asked for. */
export type CliCommand =
  | { kind: "help" }
  | {
    kind: "run";
    orchestrator: string;
    params: TestParams;
    thresholds: Threshold[];
    json: boolean;
  }
  | { kind: "list"; orchestrator: string; json: boolean }
  | { kind: "show"; orchestrator: string; testId: string; json: boolean }
  | { kind: "stop"; orchestrator: string; testId: string; json: boolean }
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

Exit codes: 0 ok, 1 a threshold failed or the test did not finish, 2 bad usage, 3 API unreachable.`;

const SUBCOMMANDS = ["list", "show", "stop", "report"] as const;

function checkUrl(text: string, what: string, problems: string[]): string {
  try {
    const url = new URL(text);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href.replace(/\/$/, "");
  } catch {
    // reported below
  }
  problems.push(`${what} must be an absolute http:// or https:// URL, got "${text}"`);
  return "";
}

/** Parses `deno task loadtest` arguments; throws RangeError naming every problem. */
export function parseCliArgs(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): CliCommand {
  const problems: string[] = [];
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        target: { type: "string" },
        type: { type: "string" },
        count: { type: "string" },
        delay: { type: "string" },
        rate: { type: "string" },
        duration: { type: "string" },
        connections: { type: "string" },
        timeout: { type: "string" },
        drivers: { type: "string" },
        threshold: { type: "string", multiple: true },
        json: { type: "boolean" },
        orchestrator: { type: "string" },
        format: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new RangeError(`${(err as Error).message} (see --help)`);
  }
  const v = parsed.values;
  const positionals = parsed.positionals;
  if (v.help) return { kind: "help" };
  const orchestrator = checkUrl(
    v.orchestrator ?? env.SURGE_ORCHESTRATOR ?? "http://127.0.0.1:8000",
    "--orchestrator",
    problems,
  );
  const json = v.json === true;
  const sub = positionals[0];
  const finish = <T extends CliCommand>(command: T): T => {
    if (problems.length > 0) throw new RangeError(problems.join("\n"));
    return command;
  };

  if (sub !== undefined) {
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new RangeError(
        `Unknown command "${sub}" (known: ${
          SUBCOMMANDS.join(", ")
        }; or --target URL to run a test)`,
      );
    }
    const testOnly = ["target", "type", "count", "delay", "rate", "duration", "connections"]
      .concat(["timeout", "drivers", "threshold"]).filter((k) => k in v);
    if (testOnly.length > 0) {
      problems.push(`${testOnly.map((k) => `--${k}`).join(", ")} only apply when running a test`);
    }
    if (sub !== "report" && (v.format !== undefined || v.out !== undefined)) {
      problems.push("--format and --out only apply to `report`");
    }
    if (sub === "list") {
      if (positionals.length > 1) problems.push("`list` takes no arguments");
      return finish({ kind: "list", orchestrator, json });
    }
    const testId = positionals[1];
    if (testId === undefined || positionals.length > 2) {
      problems.push(`\`${sub}\` takes exactly one test id`);
    }
    if (sub === "report") {
      const format = v.format ?? "json";
      if (format !== "json" && format !== "csv" && format !== "html") {
        problems.push(`--format must be json, csv or html, got "${format}"`);
      }
      if (v.json) problems.push("--json does not apply to `report` (use --format json)");
      return finish({
        kind: "report",
        orchestrator,
        testId: testId ?? "",
        format: format as ReportFormat,
        out: v.out,
      });
    }
    return finish({ kind: sub as "show" | "stop", orchestrator, testId: testId ?? "", json });
  }

  if (v.format !== undefined || v.out !== undefined) {
    problems.push("--format and --out only apply to `report`");
  }
  if (v.target === undefined) problems.push("--target URL is required to run a test");
  const target_url = v.target === undefined ? "" : checkUrl(v.target, "--target", problems);
  const type = (v.type ?? "avalanche").toLowerCase();
  if (type !== "avalanche" && type !== "tsunami") {
    problems.push(`--type must be avalanche or tsunami, got "${v.type}"`);
  }
  const tsunami = type === "tsunami";
  const count = parseIntIn(v.count ?? "1000", "--count", 0, Number.MAX_SAFE_INTEGER, problems);
  const duration = v.duration === undefined
    ? null
    : parseNumberIn(v.duration, "--duration", 0.001, 86_400, problems);
  if (count === 0 && duration === null && v.count !== undefined) {
    problems.push("--count 0 needs --duration (the test would never end)");
  }
  let delay = 0;
  if (tsunami) delay = parseNumberIn(v.delay ?? "10", "--delay", 0.001, 3_600_000, problems);
  else if (v.delay !== undefined) {
    problems.push("--delay is for tsunami tests; pace an avalanche with --rate");
  }
  let rate: number | null = null;
  if (v.rate !== undefined) {
    if (tsunami) problems.push("--rate is for avalanche tests; pace a tsunami with --delay");
    else rate = parseNumberIn(v.rate, "--rate", 0.001, 10_000_000, problems);
  }
  const connections = parseIntIn(v.connections ?? "10", "--connections", 1, 100_000, problems);
  const timeout = parseIntIn(v.timeout ?? "10000", "--timeout", 1, 600_000, problems);
  let drivers: string[] | undefined;
  if (v.drivers !== undefined) {
    drivers = v.drivers.split(",").map((d) => d.trim()).filter((d) => d !== "");
    const bad = drivers.filter((d) => !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(d));
    if (drivers.length === 0 || bad.length > 0) {
      problems.push(`--drivers must be a comma-separated list of driver names, got "${v.drivers}"`);
    }
  }
  let thresholds: Threshold[] = [];
  try {
    thresholds = parseThresholds(v.threshold ?? []);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (positionals.length > 0) problems.push(`Unexpected argument "${positionals[0]}"`);
  const params: TestParams = {
    test_type: tsunami ? "TSUNAMI" : "AVALANCHE",
    test_message_delay: delay,
    message_count_per_driver: count,
    target_url,
    target_throughput: rate,
    duration_s: duration,
    connections,
    timeout_ms: timeout,
    method: "GET",
    ...(drivers ? { drivers } : {}),
  };
  return finish({ kind: "run", orchestrator, params, thresholds, json });
}
