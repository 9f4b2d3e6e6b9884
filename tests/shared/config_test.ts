import assert from "node:assert/strict";
import { parseBrokers, parseIntIn, parseKafkaEnv, parsePort } from "../../shared/config.ts";

Deno.test("parseBrokers accepts host:port lists and names a bad entry", () => {
  assert.deepEqual(parseBrokers("127.0.0.1:9092, 127.0.0.1:9093"), [
    "127.0.0.1:9092",
    "127.0.0.1:9093",
  ]);
  assert.deepEqual(parseBrokers("[::1]:9092"), ["[::1]:9092"]);
  for (const bad of ["", " , ", "127.0.0.1", "host:0", "host:99999", "a b:1"]) {
    assert.throws(() => parseBrokers(bad), RangeError, bad);
  }
});

Deno.test("parseKafkaEnv: defaults, and every problem recorded rather than thrown", () => {
  const ok: string[] = [];
  assert.deepEqual(parseKafkaEnv({}, ok), { brokers: ["127.0.0.1:9092"], topicPrefix: "" });
  assert.deepEqual(ok, []);
  const problems: string[] = [];
  parseKafkaEnv({ KAFKA_BROKERS: "nohost", SURGE_TOPIC_PREFIX: "a b" }, problems);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /Invalid Kafka broker "nohost"/);
  assert.match(problems[1]!, /SURGE_TOPIC_PREFIX/);
});

Deno.test("parsePort and parseIntIn table", () => {
  const table: [string, number | null][] = [
    ["1", 1],
    ["65535", 65535],
    ["0", null],
    [
      "65536",
      null,
    ],
    ["8080x", null],
    ["", null],
    [" 80", 80],
  ];
  for (const [text, want] of table) {
    const problems: string[] = [];
    const got = parsePort(text, "--port", problems);
    if (want === null) assert.equal(problems.length, 1, text);
    else assert.deepEqual([got, problems], [want, []], text);
  }
  const problems: string[] = [];
  assert.equal(parseIntIn("7", "--n", 1, 10, problems), 7);
  assert.equal(parseIntIn("1.5", "--n", 1, 10, problems), 1);
  assert.equal(parseIntIn("11", "--n", 1, 10, problems), 1);
  assert.equal(problems.length, 2);
});
