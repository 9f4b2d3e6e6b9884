import assert from "node:assert/strict";
import { z } from "zod";
import { validate } from "../../shared/cli_args.ts";
import {
  baseUrlText,
  kafkaEnv,
  kafkaEnvShape,
  logLevelText,
  numberText,
  parseBrokers,
  portText,
  wholeNumberText,
} from "../../shared/config.ts";

/** Checks one text with `schema`, named `--x`: the value, or the problems. */
function check(schema: z.ZodType<unknown, string>, text: string): unknown {
  try {
    return validate(z.object({ x: schema }), { x: { name: "--x", value: text } }).x;
  } catch (err) {
    return (err as { problems?: unknown }).problems ?? err;
  }
}

Deno.test("text schemas turn text into values or name the value and say what is wrong", () => {
  const table: [string, z.ZodType<unknown, string>, string, unknown][] = [
    ["port", portText, "1", 1],
    ["port with spaces", portText, " 80 ", 80],
    ["highest port", portText, "65535", 65535],
    ["port 0", portText, "0", ['--x must be a port number 1-65535, got "0"']],
    ["port too big", portText, "65536", ['--x must be a port number 1-65535, got "65536"']],
    ["port with junk", portText, "8080x", ['--x must be a port number 1-65535, got "8080x"']],
    ["empty port", portText, "", ['--x must be a port number 1-65535, got ""']],
    ["whole number", wholeNumberText(1, 10), "7", 7],
    ["negative whole number", wholeNumberText(-5, 5), "-5", -5],
    ["fraction", wholeNumberText(1, 10), "1.5", [
      '--x must be a whole number from 1 to 10, got "1.5"',
    ]],
    ["above the range", wholeNumberText(1, 10), "11", [
      '--x must be a whole number from 1 to 10, got "11"',
    ]],
    ["number", numberText(0.5, 60), "2.5", 2.5],
    ["below the range", numberText(0.5, 60), "0.1", [
      '--x must be a number from 0.5 to 60, got "0.1"',
    ]],
    ["not a number", numberText(0.5, 60), "fast", [
      '--x must be a number from 0.5 to 60, got "fast"',
    ]],
    [
      "URL without its trailing slash",
      baseUrlText,
      "http://127.0.0.1:8000/",
      "http://127.0.0.1:8000",
    ],
    ["URL with a path", baseUrlText, "https://h/api//", "https://h/api"],
    ["not an http URL", baseUrlText, "ftp://h/", [
      '--x must be an absolute http:// or https:// URL, got "ftp://h/"',
    ]],
    ["log level", logLevelText, "warn", "warn"],
    ["unknown log level", logLevelText, "loud", [
      '--x must be debug, info, warn or error, got "loud"',
    ]],
  ];
  for (const [name, schema, text, want] of table) assert.deepEqual(check(schema, text), want, name);
});

Deno.test("parseBrokers() reads host:port lists and names each bad entry", () => {
  assert.deepEqual(parseBrokers("127.0.0.1:9092, 127.0.0.1:9093"), [
    "127.0.0.1:9092",
    "127.0.0.1:9093",
  ]);
  assert.deepEqual(parseBrokers("[::1]:9092"), ["[::1]:9092"]);
  const table: [string, string[]][] = [
    [" , ", ['KAFKA_BROKERS must be host:port[,host:port], got " , "']],
    ["127.0.0.1", [
      'KAFKA_BROKERS has an invalid entry "127.0.0.1": expected host:port with a port 1-65535',
    ]],
    ["host:0,a b:1", [
      'KAFKA_BROKERS has an invalid entry "host:0": expected host:port with a port 1-65535',
      'KAFKA_BROKERS has an invalid entry "a b:1": expected host:port with a port 1-65535',
    ]],
    ["host:99999", [
      'KAFKA_BROKERS has an invalid entry "host:99999": expected host:port with a port 1-65535',
    ]],
  ];
  for (const [text, problems] of table) {
    assert.throws(() => parseBrokers(text), { name: "UsageError", problems }, text);
  }
});

Deno.test("kafkaEnv(): default brokers, blank counts as unset, every problem named", () => {
  const kafka = z.object(kafkaEnvShape);
  assert.deepEqual(validate(kafka, kafkaEnv({})), {
    brokers: ["127.0.0.1:9092"],
    topicPrefix: "",
    access: {},
  });
  assert.deepEqual(validate(kafka, kafkaEnv({ KAFKA_BROKERS: "  ", SURGE_TOPIC_PREFIX: "me." })), {
    brokers: ["127.0.0.1:9092"],
    topicPrefix: "me.",
    access: {},
  });
  assert.equal(kafkaEnv({ KAFKA_BROKERS: "" }, { startsBroker: true }).brokers.value, undefined);
  assert.throws(
    () => validate(kafka, kafkaEnv({ KAFKA_BROKERS: "nohost", SURGE_TOPIC_PREFIX: "a b" })),
    {
      name: "UsageError",
      problems: [
        'KAFKA_BROKERS has an invalid entry "nohost": expected host:port with a port 1-65535',
        'SURGE_TOPIC_PREFIX is not usable: Invalid topic prefix "a b": use at most 100 of A-Z a-z 0-9 . _ -',
      ],
    },
  );
});
