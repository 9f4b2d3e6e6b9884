/**
 * One small logger for every component: concise text lines (or JSON lines) on stderr, with
 * structured fields such as component, test_id and node_id. No line carries a secret or a raw
 * control character (README "Security"): a field that is a test config or a headers record is
 * redacted, the body included, and control characters are escaped.
 */
import { type Redactable, redactConfig } from "./redact.ts";
import { escapeControl } from "./terminal_text.ts";

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A logger bound to some fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Where lines go and how they look. */
export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  /** Receives each formatted line; defaults to stderr. */
  sink?: (line: string) => void;
}

/** Parses a level name, falling back to `info` for anything unknown. */
export function parseLogLevel(value: string | undefined): LogLevel {
  return value !== undefined && value in LEVELS ? value as LogLevel : "info";
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Error);

/** A config's secret-bearing fields, when `v` has any (a headers record must be an object). */
const redactable = (v: Record<string, unknown>) =>
  ("headers" in v && isRecord(v.headers)) || typeof v.body === "string";

/**
 * The fields with secrets out: the fields themselves and each field that is an object are
 * redacted as a test config would be (secret header values and the body), so neither
 * `{ headers }` nor `{ config }` can leak one, whoever logs it.
 */
export function redactFields(fields: LogFields): LogFields {
  const top = redactable(fields) ? redactConfig(fields as Redactable, { showBody: false }) : fields;
  return Object.fromEntries(
    Object.entries(top).map(([k, v]) => [
      k,
      isRecord(v) && redactable(v) ? redactConfig(v as Redactable, { showBody: false }) : v,
    ]),
  );
}

const encoder = new TextEncoder();
const stderrSink = (line: string) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // A closed stderr must never take the process down.
  }
};

/** Creates a logger; `fields` are attached to every line. */
export function createLogger(fields: LogFields = {}, options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? "info"];
  const sink = options.sink ?? stderrSink;
  const write = (level: LogLevel, msg: string, extra?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const all: LogFields = {};
    // An absent value says nothing: print no `reason=undefined`.
    for (const [k, v] of Object.entries(redactFields({ ...fields, ...extra }))) {
      if (v !== undefined) all[k] = v;
    }
    // A line is one line of plain text: a stored string's control characters are escaped.
    if (options.json) {
      sink(escapeControl(JSON.stringify(
        { time: new Date().toISOString(), level, msg, ...all },
        (_k, v) => v instanceof Error ? v.message : v,
      )));
      return;
    }
    const { component, ...rest } = all;
    const prefix = component === undefined ? "" : `[${component}] `;
    const tail = Object.entries(rest).map(([k, v]) => ` ${k}=${formatValue(v)}`).join("");
    sink(escapeControl(
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${prefix}${msg}${tail}`,
    ));
  };
  return {
    debug: (msg, extra) => write("debug", msg, extra),
    info: (msg, extra) => write("info", msg, extra),
    warn: (msg, extra) => write("warn", msg, extra),
    error: (msg, extra) => write("error", msg, extra),
    child: (more) => createLogger({ ...fields, ...more }, options),
  };
}
