/**
 * `deno task loadtest`: the command-line client of the orchestrator's REST API. Runs a test with
 * a live progress line and a summary (thresholds make it a CI gate), or lists, shows, stops and
 * exports and deletes tests. Exit codes: 0 ok, 1 a threshold failed or the test did not finish, 2 bad usage,
 * 3 the orchestrator could not be reached or refused a request.
 */
import { renderReportHtml } from "../dashboard/report_html.ts";
import { ApiError } from "../shared/api_error.ts";
import { findClientToken } from "../shared/api_token.ts";
import { lazyEnv } from "../shared/cli_args.ts";
import { type Redactable, redactTest } from "../shared/redact.ts";
import { stripControl, terminalJson } from "../shared/terminal_text.ts";
import { parseOrExit } from "../shared/usage_error.ts";
import { createApiClient, UnreachableError } from "./api_client.ts";
import { type CliCommand, LOADTEST_USAGE, parseCliArgs } from "./config.ts";
import { renderTestList } from "./list.ts";
import { runTest } from "./run_loadtest.ts";
import { renderSummary } from "./summary.ts";
import { evaluateThresholds } from "./threshold.ts";

const encoder = new TextEncoder();
const out = (text: string) => Deno.stdout.writeSync(encoder.encode(text + "\n"));
const err = (text: string) => Deno.stderr.writeSync(encoder.encode(text + "\n"));
/**
 * A test resource as the CLI prints it: secret headers redacted once more, in case the
 * orchestrator is older than its redaction; the body as the API gave it, to its token holder.
 * The text renderers strip control characters themselves; JSON is escaped by terminalJson.
 */
const shown = <T extends { config: Redactable }>(test: T): T =>
  redactTest(test, { showBody: true });
/**
 * A CSV report on a terminal: control characters stripped from each record (the CRLF between
 * records stays); written to a file or a pipe, it is left exact.
 */
const csvOnTerminal = (text: string) =>
  Deno.stdout.isTerminal() ? text.split("\r\n").map(stripControl).join("\r\n") : text;

async function execute(command: Exclude<CliCommand, { kind: "help" }>): Promise<number> {
  const token = await findClientToken(lazyEnv((name) => Deno.env.get(name)));
  const api = createApiClient(command.orchestrator, { token });
  switch (command.kind) {
    case "run": {
      const interrupt = new AbortController();
      const onSignal = () => interrupt.abort();
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      // On a terminal the line redraws in place; in a log, one line per update.
      const tty = Deno.stderr.isTerminal();
      try {
        const { view, interrupted } = await runTest(command.params, {
          api,
          signal: interrupt.signal,
          onProgress: (line) =>
            tty ? Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${line}`)) : err(line),
          onNote: (line) => err(tty ? `\r\x1b[K${stripControl(line)}` : stripControl(line)),
        });
        if (tty) err("");
        const results = evaluateThresholds(command.thresholds, view.overall);
        if (command.json) out(terminalJson(shown(view)));
        else out(renderSummary(view, results));
        if (interrupted || view.state !== "finished") return 1;
        return results.every((r) => r.passed) ? 0 : 1;
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
      }
    }
    case "list": {
      const tests = await api.listTests();
      out(command.json ? terminalJson({ tests: tests.map(shown) }) : renderTestList(tests));
      return 0;
    }
    case "show": {
      const view = await api.getTest(command.testId);
      out(command.json ? terminalJson(shown(view)) : renderSummary(view));
      return 0;
    }
    case "stop": {
      const view = await api.stop(command.testId);
      out(command.json ? terminalJson(shown(view)) : `Test ${view.test_id} is ${view.state}.`);
      return 0;
    }
    case "delete": {
      await api.deleteTest(command.testId);
      out(
        command.json
          ? JSON.stringify({ test_id: command.testId, deleted: true })
          : `Deleted test ${command.testId}.`,
      );
      return 0;
    }
    case "report": {
      const report = async () => {
        const data = await api.report(command.testId);
        return { ...data, test: shown(data.test) };
      };
      const text = command.format === "csv"
        ? await api.reportCsv(command.testId)
        : command.format === "html"
        ? renderReportHtml(await report())
        : terminalJson(await report(), 2) + "\n";
      if (command.out === undefined) {
        Deno.stdout.writeSync(
          encoder.encode(command.format === "csv" ? csvOnTerminal(text) : text),
        );
      } else {
        await Deno.writeTextFile(command.out, text);
        err(`wrote ${command.format} report of test ${command.testId} to ${command.out}`);
      }
      return 0;
    }
  }
}

async function main(): Promise<number> {
  const command = parseOrExit(
    "loadtest",
    LOADTEST_USAGE,
    () => parseCliArgs(lazyEnv((name) => Deno.env.get(name)), Deno.args),
  );
  try {
    return await execute(command);
  } catch (e) {
    // An error's text may quote the orchestrator's answer: a stored string like any other.
    if (e instanceof UnreachableError || e instanceof ApiError) {
      err(`loadtest: ${stripControl(e.message)}`);
      return 3;
    }
    err(`loadtest: ${stripControl((e as Error).message)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
