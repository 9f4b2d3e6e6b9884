/**
 * One small logger for every component: concise text lines (or JSON lines) on stderr, with
 * structured fields such as component, test_id and node_id.
 */

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
    for (const [k, v] of Object.entries({ ...fields, ...extra })) if (v !== undefined) all[k] = v;
    if (options.json) {
      sink(
        JSON.stringify(
          { time: new Date().toISOString(), level, msg, ...all },
          (_k, v) => v instanceof Error ? v.message : v,
        ),
      );
      return;
    }
    const { component, ...rest } = all;
    const prefix = component === undefined ? "" : `[${component}] `;
    const tail = Object.entries(rest).map(([k, v]) => ` ${k}=${formatValue(v)}`).join("");
    sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${prefix}${msg}${tail}`);
  };
  return {
    debug: (msg, extra) => write("debug", msg, extra),
    info: (msg, extra) => write("info", msg, extra),
    warn: (msg, extra) => write("warn", msg, extra),
    error: (msg, extra) => write("error", msg, extra),
    child: (more) => createLogger({ ...fields, ...more }, options),
  };
}
