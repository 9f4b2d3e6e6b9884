/**
 * Secrets in a test's request, kept out of everything surge shows. The real values are stored
 * and published to the drivers (they must send them); every output — the REST API's test
 * resources, the reports, the dashboard, the CLI and the logs — shows a config only through
 * {@link redactConfig}. README "Security", "Secrets".
 */

/** What a secret is shown as. */
export const REDACTED = "***";

/** Headers whose values are always secret, in lower case (names compare case-insensitively). */
export const SECRET_HEADERS: readonly string[] = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
];

/** True when header `name` is secret: one of {@link SECRET_HEADERS} or of `marked`, any case. */
export function isSecretHeader(name: string, marked: readonly string[] = []): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.includes(lower) || marked.some((m) => m.toLowerCase() === lower);
}

/** `headers` with the value of every secret header (see {@link isSecretHeader}) replaced. */
export function redactHeaders(
  headers: Readonly<Record<string, string>>,
  marked: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      isSecretHeader(name, marked) ? REDACTED : value,
    ]),
  );
}

/** The parts of a test config (or of anything shaped like one) that can hold a secret. */
export interface Redactable {
  headers?: Readonly<Record<string, string>> | undefined;
  secret_headers?: readonly string[] | undefined;
  body?: string | undefined;
}

/** Whether an output shows the request body (README "Security", "Secrets"). */
export interface RedactOptions {
  /**
   * True only where the reader is a token holder: the REST API's answers (every API caller holds
   * the API token). False for the HTML report (a file made to be passed on), the dashboard's
   * stream and the logs.
   */
  showBody: boolean;
}

/**
 * A copy of `config` that is safe to show: secret header values are {@link REDACTED}, and so is
 * the body unless `showBody`. Idempotent, so an output may apply it to a config that an upstream
 * output already redacted (the CLI to the API's answers).
 */
export function redactConfig<C extends Redactable>(config: C, options: RedactOptions): C {
  const out = { ...config };
  if (config.headers !== undefined) {
    out.headers = redactHeaders(config.headers, config.secret_headers ?? []);
  }
  if (!options.showBody && config.body !== undefined) out.body = REDACTED;
  return out;
}

/** A test resource (anything with a `config`: a view, a list entry) with its config redacted. */
export function redactTest<T extends { config: Redactable }>(test: T, options: RedactOptions): T {
  return { ...test, config: redactConfig(test.config, options) };
}
