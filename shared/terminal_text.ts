// deno-lint-ignore-file no-control-regex -- matching control characters is what this module is for
/**
 * Stored strings made safe to print on a terminal. Much of what surge shows was written by someone
 * else: a target URL, a driver's error text, status-code keys of a metrics message. An escape
 * sequence among them could recolour, retitle or clear the terminal, or forge a line; so the CLI
 * strips control characters from every stored string it renders ({@link stripControl},
 * {@link terminalSafe}), and whatever prints data verbatim (JSON output, log lines) escapes them
 * instead ({@link escapeControl}), which loses nothing. README "Security", "Output hygiene".
 */

const ESCAPE_SEQUENCE =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|[ -/]*[0-~]?)/g;
/** The 8-bit forms: CSI (0x9b) and the string introducers OSC, DCS, SOS, PM, APC. */
const C1_SEQUENCE = /\x9b[0-?]*[ -/]*[@-~]?|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c)?/g;
const WHITESPACE_CONTROL = /[\t\n\r]/g;
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * `text` without escape sequences (CSI, OSC, DCS and the rest, 7- and 8-bit, with their
 * parameters) and without any other C0, DEL or C1 character. Tab, CR and LF become a space, so a
 * stored string can neither forge a line nor run two words together.
 */
export function stripControl(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "").replace(C1_SEQUENCE, "")
    .replace(WHITESPACE_CONTROL, " ").replace(CONTROL, "");
}

/**
 * `value` with {@link stripControl} applied to every string in it, object keys included (a driver
 * id or a status code is a key), for rendering as text. Other values are copied as they are.
 */
export function terminalSafe<T>(value: T): T {
  if (typeof value === "string") return stripControl(value) as T;
  if (Array.isArray(value)) return value.map(terminalSafe) as T;
  if (
    value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [stripControl(k), terminalSafe(v)]),
    ) as T;
  }
  return value;
}

const hexEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * `text` with every C0, DEL and C1 character written as a `\u00XX` escape: one line (a log line)
 * that a terminal shows as it is, and from which the data can be read back exactly.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, hexEscape);
}

const DEL_C1 = /[\x7f-\x9f]/g;

/**
 * `JSON.stringify(value, null, space)` safe for a terminal, and still the same JSON: stringify
 * escapes C0 inside strings but leaves DEL and C1 raw (0x9b is an 8-bit CSI), so those are
 * escaped as {@link escapeControl} does; the layout's own line breaks stay.
 */
export function terminalJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(DEL_C1, hexEscape);
}
