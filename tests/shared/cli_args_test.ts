import assert from "node:assert/strict";
import { z } from "zod";
import {
  checkAll,
  flag,
  flagOrEnv,
  flagsNotFor,
  readArgs,
  validate,
} from "../../shared/cli_args.ts";
import { portText, wholeNumberText } from "../../shared/config.ts";
import { UsageError, usageErrorText } from "../../shared/usage_error.ts";

const FLAGS = {
  port: { type: "string" },
  header: { type: "string", multiple: true },
  wipe: { type: "boolean" },
} as const;

Deno.test("readArgs() splits options and positionals and notes every problem", () => {
  const table: [string, string[], boolean, object][] = [
    ["nothing", [], false, { help: false, values: {}, positionals: [], problems: [] }],
    [
      "every kind of option",
      ["--port", "80", "--header=a: b", "--header", "c: d", "--wipe"],
      false,
      {
        help: false,
        values: { port: "80", header: ["a: b", "c: d"], wipe: true },
        positionals: [],
        problems: [],
      },
    ],
    ["the last value wins", ["--port=1", "--port=2"], false, {
      help: false,
      values: { port: "2" },
      positionals: [],
      problems: [],
    }],
    ["-h, even among bad flags", ["--bogus", "-h"], false, {
      help: true,
      values: {},
      positionals: [],
      problems: ["Unknown option '--bogus'"],
    }],
    ["positionals, after -- too", ["one", "--", "--port"], true, {
      help: false,
      values: {},
      positionals: ["one", "--port"],
      problems: [],
    }],
    [
      "every problem, not only the first",
      [
        "--bogus",
        "-x",
        "--wipe=yes",
        "--port",
        "-1",
        "extra",
        "--header",
      ],
      false,
      {
        help: false,
        values: {},
        positionals: ["extra"],
        problems: [
          "Unknown option '--bogus'",
          "Unknown option '-x'",
          '--wipe takes no value, got "yes"',
          '--port needs a value (one that starts with "-" is written --port=-…)',
          "--header needs a value",
          "Unexpected argument 'extra'",
        ],
      },
    ],
    ["a value that starts with '-' when attached", ["--port=-1"], false, {
      help: false,
      values: { port: "-1" },
      positionals: [],
      problems: [],
    }],
  ];
  for (const [name, args, positionals, want] of table) {
    assert.deepEqual(readArgs(args, FLAGS, { positionals }), want, name);
  }
});

Deno.test("flag() and flagOrEnv() name the value after where it came from", () => {
  const env = { PORT: "9000" };
  assert.deepEqual(flagOrEnv("port", "80", env, "PORT", "8080"), { name: "--port", value: "80" });
  assert.deepEqual(flagOrEnv("port", undefined, env, "PORT", "8080"), {
    name: "PORT",
    value: "9000",
  });
  assert.deepEqual(flagOrEnv("port", undefined, {}, "PORT", "8080"), {
    name: "--port",
    value: "8080",
  });
  assert.deepEqual(flag("wipe", undefined, false), { name: "--wipe", value: false });
  assert.deepEqual(flagsNotFor({ json: true, out: undefined }, ["json", "out"], "is not for x"), [
    "--json is not for x",
  ]);
});

const schema = z.object({
  port: portText,
  workers: wholeNumberText(1, 8),
  dir: z.string().min(1),
  drivers: z.array(z.string().regex(/^[a-z]+$/, "must be lower-case letters")),
  retry_ms: z.number().int().positive().optional(),
}).refine((c) => c.port !== 8080 || c.workers === 1, {
  path: ["workers"],
  message: "must be 1 on port 8080 (see retry_ms)",
});

Deno.test("validate() returns typed values or names every problem at once", () => {
  const given = (port: string, workers: string, dir: string, drivers: string[]) => ({
    port: { name: "PORT", value: port },
    workers: { name: "--workers", value: workers },
    dir: { name: "--dir", value: dir },
    drivers: { name: "--drivers", value: drivers },
    retry_ms: { name: "--retry", value: undefined },
  });
  assert.deepEqual(validate(schema, given("80", "3", "/d", ["a"])), {
    port: 80,
    workers: 3,
    dir: "/d",
    drivers: ["a"],
  });
  assert.throws(() => validate(schema, given("x", "0", "", ["a", "B"]), ["Unknown option '--z'"]), {
    name: "UsageError",
    problems: [
      "Unknown option '--z'",
      'PORT must be a port number 1-65535, got "x"',
      '--workers must be a whole number from 1 to 8, got "0"',
      '--dir must not be empty, got ""',
      '--drivers must be lower-case letters, got "B"',
    ],
  });
  // A rule between values runs once each value is valid; a key it names reads as its flag.
  assert.throws(() => validate(schema, given("8080", "2", "/d", [])), {
    name: "UsageError",
    problems: ["--workers must be 1 on port 8080 (see --retry)"],
  });
  assert.throws(
    () =>
      validate(z.object({ n: z.number().int().positive().max(9) }), {
        n: { name: "--n", value: 10 },
      }),
    { name: "UsageError", problems: ["--n must be at most 9, got 10"] },
  );
  assert.throws(
    () => validate(z.object({ n: z.string() }), { n: { name: "<id>", value: undefined } }),
    { name: "UsageError", problems: ["<id> is required"] },
  );
});

Deno.test("checkAll() runs every check and throws all their problems together", () => {
  const bad = (p: string) => () => {
    throw new UsageError(p);
  };
  assert.deepEqual(checkAll([], () => 1, () => "a"), [1, "a"]);
  assert.throws(() => checkAll(["first"], () => 1, bad("second"), bad("third")), {
    name: "UsageError",
    problems: ["first", "second", "third"],
  });
  assert.throws(() =>
    checkAll([], () => {
      throw new TypeError("a bug, not usage");
    }), { name: "TypeError", message: "a bug, not usage" });
});

Deno.test("usageErrorText() prefixes each problem and points to --help", () => {
  assert.equal(
    usageErrorText("up", new UsageError(["--drivers must be ...", "--port must be ..."])),
    "up: --drivers must be ...\nup: --port must be ...\nRun with --help for usage.",
  );
  const err = new UsageError("one problem");
  assert.deepEqual([err.name, err.message, err.exitCode, err.problems], [
    "UsageError",
    "one problem",
    2,
    ["one problem"],
  ]);
});
