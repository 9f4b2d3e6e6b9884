/**
 * Bad usage of an entry point, and the one way every `main.ts` answers it: each problem on
 * stderr, a hint to run with --help, exit code 2. `-h`/`--help` prints the usage on stdout and
 * exits 0. Keeping both here means no entry point invents its own convention.
 */

/** Exit code of every entry point for bad flags, arguments or environment. */
export const USAGE_EXIT_CODE = 2;

/** The caller asked for help: print the usage, validate nothing. */
export interface Help {
  readonly help: true;
}

/** What a config parser returns for `-h`/`--help`. */
export const HELP: Help = Object.freeze({ help: true });

/** Whether a parser's result asks for the usage text. */
export function isHelp(value: unknown): value is Help {
  return typeof value === "object" && value !== null && (value as Help).help === true;
}

/**
 * Bad command-line usage or environment, with every problem found (k6's `Validate() []error`).
 * Entry points exit with {@link USAGE_EXIT_CODE} on it; anything else that fails is not usage.
 */
export class UsageError extends Error {
  /** One line per problem, each naming the flag or variable it is about. */
  readonly problems: readonly string[];
  readonly exitCode = USAGE_EXIT_CODE;

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === "string" ? [problems] : [...problems];
    super(list.join("\n"));
    this.name = "UsageError";
    this.problems = list;
  }
}

/** What goes to stderr for a usage error: `name: problem` lines, then the --help hint. */
export function usageErrorText(name: string, err: UsageError): string {
  return [...err.problems.map((p) => `${name}: ${p}`), "Run with --help for usage."].join("\n");
}

/**
 * The one help and usage-error convention, for `main.ts` files only (it prints and exits):
 * returns the config `parse` builds; on `-h`/`--help` prints `usage` on stdout and exits 0; on a
 * {@link UsageError} prints {@link usageErrorText} on stderr and exits 2. Other errors propagate.
 */
export function parseOrExit<C>(name: string, usage: string, parse: () => C | Help): C {
  let parsed: C | Help;
  try {
    parsed = parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(usageErrorText(name, err));
    Deno.exit(err.exitCode);
  }
  if (isHelp(parsed)) {
    console.log(usage);
    Deno.exit(0);
  }
  return parsed;
}
