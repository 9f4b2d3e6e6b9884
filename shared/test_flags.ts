/**
 * A test's parameters given as flags, by `deno task loadtest` and `deno task driver --local`.
 * They are checked by the same field schemas and cross-field rules as `POST /api/tests` and the
 * `test_config` message (`testParamsShape` and `checkTestParams`, shared/messages.ts), so the
 * Tsunami/Avalanche rules, the URL check and every limit are stated once, there. This module
 * only turns flag text into the values those schemas take, and names the flags in problems.
 */
import { z } from "zod";
import { flag, type FlagValues, type Given, validate } from "./cli_args.ts";
import { anyNumberText } from "./config.ts";
import { checkTestParams, HTTP_METHODS, testParamsShape as field } from "./messages.ts";

/** The test flags both commands take. */
export const TEST_FLAGS = {
  type: { type: "string" },
  count: { type: "string" },
  delay: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  connections: { type: "string" },
  timeout: { type: "string" },
} as const;

/** The request to send, for the driver's local mode (REST and loadtest send GET). */
export const REQUEST_FLAGS = {
  method: { type: "string" },
  header: { type: "string", multiple: true },
  body: { type: "string" },
} as const;

/** The test flags as read by `readArgs`; `--drivers` is loadtest's. */
export type TestFlagValues = FlagValues<
  typeof TEST_FLAGS & typeof REQUEST_FLAGS & { drivers: { type: "string" } }
>;

/** Text in any case → one of `values`. */
function anyCaseOf<const V extends string>(values: readonly V[], message: string) {
  return z.string().refine((text) => (values as readonly string[]).includes(text.toUpperCase()), {
    message,
    abort: true,
  }).transform((text) => text.toUpperCase() as V);
}

/** `--header "Name: value"` lines → a header record (the names are checked by `headers`). */
const headerLines = z.array(z.string()).transform((lines, ctx) => {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trimStart();
    else ctx.addIssue({ code: "custom", message: 'must look like "Name: value"', input: line });
  }
  return headers;
});

/** `--drivers a,b` → the list (each name is checked by `drivers`). */
const driverList = z.string().refine(
  (text) => text.split(",").some((d) => d.trim() !== ""),
  { message: "must be a comma-separated list of driver names", abort: true },
).transform((text) => text.split(",").map((d) => d.trim()).filter((d) => d !== ""));

/** Flag text → a number for `schema`; an absent flag leaves the field to the schema's default. */
const numberFor = <T extends z.ZodType<unknown, number | null | undefined>>(schema: T) =>
  anyNumberText.nullish().pipe(schema);

const testFlagsSchema = z.object({
  test_type: anyCaseOf(
    field.test_type.options,
    `must be ${field.test_type.options.map((o) => o.toLowerCase()).join(" or ")}`,
  ),
  test_message_delay: numberFor(field.test_message_delay),
  message_count_per_driver: numberFor(field.message_count_per_driver),
  target_url: field.target_url,
  // Absent means no limit; null says so explicitly, as the REST body may.
  target_throughput: numberFor(field.target_throughput).transform((v) => v ?? null),
  duration_s: numberFor(field.duration_s).transform((v) => v ?? null),
  connections: numberFor(field.connections),
  timeout_ms: numberFor(field.timeout_ms),
  drivers: driverList.optional().pipe(field.drivers),
  method: anyCaseOf(HTTP_METHODS, `must be one of ${HTTP_METHODS.join(", ")}`).optional()
    .pipe(field.method),
  headers: headerLines.optional().pipe(field.headers),
  body: field.body,
}).superRefine(checkTestParams);

/** Test parameters as the REST API's `POST /api/tests` takes them. */
export type TestFlagParams = z.output<typeof testFlagsSchema>;

/** What a command assumes for a flag that is not given. */
export interface TestFlagDefaults {
  count: string;
  /** `--delay` of a Tsunami test; without it a Tsunami test must be given one. */
  tsunamiDelay?: string;
  /** `--duration` when `--count` is not given either. */
  duration?: string;
}

/**
 * Checks the test flags and the target `url` (named after its flag) with the REST API's
 * schemas; throws a UsageError listing every problem, each naming its flag.
 */
export function testParamsFromFlags(
  values: TestFlagValues,
  url: Given,
  defaults: TestFlagDefaults,
): TestFlagParams {
  const tsunami = values.type?.toLowerCase() === "tsunami";
  return validate(testFlagsSchema, {
    test_type: flag("type", values.type, "avalanche"),
    test_message_delay: flag("delay", values.delay, tsunami ? defaults.tsunamiDelay ?? "0" : "0"),
    message_count_per_driver: flag("count", values.count, defaults.count),
    target_url: url,
    target_throughput: flag("rate", values.rate),
    duration_s: flag("duration", values.duration, values.count ? undefined : defaults.duration),
    connections: flag("connections", values.connections),
    timeout_ms: flag("timeout", values.timeout),
    drivers: flag("drivers", values.drivers),
    method: flag("method", values.method),
    headers: flag("header", values.header),
    body: flag("body", values.body),
  });
}
