/**
 * The one flag and environment helper of every entry point. A config is a pure
 * `parseXConfig(env, args)`: {@link readArgs} splits the arguments, {@link validate} checks every
 * value with one zod schema, and every problem — unknown flags, bad values, broken rules between
 * values — is reported at once in one {@link UsageError}, each naming its flag or variable.
 */
import { parseArgs } from "node:util";
import type { z } from "zod";
import { UsageError } from "./usage_error.ts";

/** The environment as `main.ts` passes it ({@link lazyEnv}, or a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment read one variable at a time, as a config asks for it. `Deno.env.toObject()`
 * needs access to every variable, so a process given `--allow-env=PORT,SURGE_*` could not call
 * it; with this, each process needs access only to the variables it reads (README "Security",
 * "Least privilege"), and reading one it was not granted fails naming it.
 */
export function lazyEnv(get: (name: string) => string | undefined): Env {
  return new Proxy({}, {
    get: (_target, name) => typeof name === "string" ? get(name) : undefined,
  });
}

/** An option: a value (`--port 80`, `--port=80`; `multiple` collects repeats) or a switch. */
export type FlagSpec = { type: "string"; multiple?: boolean } | { type: "boolean" };

/** The options an entry point takes, by long name without the dashes. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type FlagValue<S> = S extends { type: "boolean" } ? boolean
  : S extends { multiple: true } ? string[]
  : string;

/** The options that were given, typed by their spec; absent ones are undefined. */
export type FlagValues<O extends FlagSpecs> = { [K in keyof O]?: FlagValue<O[K]> };

/** The arguments split into options and positionals, and what was wrong with them. */
export interface ArgsRead<O extends FlagSpecs> {
  /** `-h` or `--help` was given: every entry point then prints its usage and checks nothing. */
  help: boolean;
  values: FlagValues<O>;
  positionals: string[];
  /** Unknown options, missing values, unexpected arguments: every one, not only the first. */
  problems: string[];
}

/**
 * Splits `args` by `flags` (`-h`/`--help` is always known). Unlike `parseArgs({ strict: true })`,
 * which stops at the first bad token, it notes every problem and keeps the rest, so one run
 * reports them all. A value that starts with "-" must be attached (`--count=-1`), as in strict
 * mode, so a forgotten value does not swallow the next flag.
 */
export function readArgs<const O extends FlagSpecs>(
  args: readonly string[],
  flags: O,
  options: { positionals?: boolean } = {},
): ArgsRead<O> {
  const { tokens } = parseArgs({
    args: [...args],
    options: { ...flags, help: { type: "boolean", short: "h" } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  const problems: string[] = [];
  let help = false;
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const spec = flags[token.name];
    const flag = `--${token.name}`;
    if (token.name === "help") help = true;
    else if (spec === undefined) problems.push(`Unknown option '${token.rawName}'`);
    else if (spec.type === "boolean") {
      if (token.value === undefined) values[token.name] = true;
      else problems.push(`${flag} takes no value, got "${token.value}"`);
    } else if (token.value === undefined) problems.push(`${flag} needs a value`);
    else if (!token.inlineValue && token.value.startsWith("-")) {
      problems.push(`${flag} needs a value (one that starts with "-" is written ${flag}=-…)`);
    } else if (spec.multiple) ((values[token.name] ??= []) as string[]).push(token.value);
    else values[token.name] = token.value;
  }
  if (!options.positionals) {
    for (const p of positionals) problems.push(`Unexpected argument '${p}'`);
  }
  return { help, values: values as FlagValues<O>, positionals, problems };
}

/** For each of `flags` that was given: `--flag <why>` (e.g. "only applies to `report`"). */
export function flagsNotFor(
  values: Readonly<Record<string, unknown>>,
  flags: readonly string[],
  why: string,
): string[] {
  return flags.filter((f) => values[f] !== undefined).map((f) => `--${f} ${why}`);
}

/** A value to check, and the flag or variable to name when it is wrong. */
export interface Given {
  name: string;
  value: unknown;
}

/** A flag's value, or `fallback` when it was not given. */
export function flag(name: string, value: unknown, fallback?: unknown): Given {
  return { name: `--${name}`, value: value ?? fallback };
}

/** The flag's value if given, else the variable's, else `fallback`, named after its source. */
export function flagOrEnv(
  name: string,
  value: string | undefined,
  env: Env,
  variable: string,
  fallback?: string,
): Given {
  if (value === undefined && env[variable] !== undefined) {
    return { name: variable, value: env[variable] };
  }
  return flag(name, value, fallback);
}

/**
 * Checks every given value with `schema` (an object schema over the same keys) in one pass and
 * returns the typed result, or throws one {@link UsageError} with `earlier` problems (from
 * {@link readArgs}) and one line per issue, each starting with the flag or variable at fault.
 */
export function validate<S extends z.ZodType<unknown, Record<string, unknown>>>(
  schema: S,
  given: { readonly [K in keyof z.input<S>]: Given },
  earlier: readonly string[] = [],
): z.output<S> {
  const named = given as Readonly<Record<string, Given>>;
  // A value that was not given is left out, as a missing JSON field would be: defaults apply.
  const input = Object.fromEntries(
    Object.entries(named).filter(([, g]) => g.value !== undefined).map(([k, g]) => [k, g.value]),
  );
  const result = schema.safeParse(input, { reportInput: true });
  const problems = [...earlier];
  if (!result.success) problems.push(...result.error.issues.map((i) => describeIssue(i, named)));
  if (problems.length > 0 || !result.success) throw new UsageError(problems);
  return result.data;
}

/**
 * Runs independent checks — `validate` calls, or any parser that throws a UsageError — and
 * returns their results, or throws one UsageError with `earlier` problems and those of every
 * check that failed, so a config made of several parts still reports everything at once.
 */
export function checkAll<const T extends readonly unknown[]>(
  earlier: readonly string[],
  ...checks: { [K in keyof T]: () => T[K] }
): T {
  const problems = [...earlier];
  const results = checks.map((check) => {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  });
  if (problems.length > 0) throw new UsageError(problems);
  return results as unknown as T;
}

/**
 * One issue as one line: `--connections must be greater than 0, got 0`. A message that names a
 * snake_case key of `given` (`unless duration_s is set`) names its flag instead (`--duration`),
 * so rules written for the wire format read right on a command line.
 */
export function describeIssue(
  issue: z.core.$ZodIssue,
  given: Readonly<Record<string, Given>>,
): string {
  const key = issue.path[0];
  const name = typeof key === "string" && given[key] ? given[key].name : issue.path.join(".");
  let text = wording(issue);
  for (const [k, g] of Object.entries(given)) {
    if (k.includes("_")) text = text.replace(new RegExp(`\\b${k}\\b`, "g"), g.name);
  }
  const input = issue.code === "invalid_key" ? issue.issues[0]?.input : issue.input;
  const shown = typeof input === "number"
    ? String(input)
    : typeof input === "string"
    ? JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input)
    : undefined;
  // A custom message may quote the bad text already; show it once.
  if (shown !== undefined && !(typeof input === "string" && text.includes(shown))) {
    text += `, got ${shown}`;
  }
  return name === "" ? text : `${name} ${text}`;
}

/** Plain words for zod's built-in issues; custom ones already say what must hold. */
function wording(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? issue.minimum : issue.maximum;
      const exact = issue.inclusive !== false;
      if (issue.origin === "string" && small && bound === 1) return "must not be empty";
      const unit = issue.origin === "string"
        ? " characters"
        : issue.origin === "array"
        ? " entries"
        : "";
      if (small) return `must be ${exact ? "at least" : "greater than"} ${bound}${unit}`;
      return `must be ${exact ? "at most" : "less than"} ${bound}${unit}`;
    }
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return issue.expected === "int" ? "must be a whole number" : `must be a ${issue.expected}`;
    case "invalid_value":
      return `must be one of ${issue.values.map(String).join(", ")}`;
    case "invalid_key":
      return issue.issues[0]?.message ?? issue.message;
    default:
      return issue.message;
  }
}
