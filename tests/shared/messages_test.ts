import assert from "node:assert/strict";
import { encodeMessage, type MessageOf, parseMessage } from "../../shared/messages.ts";
import { TOPIC_KINDS, type TopicKind } from "../../shared/topics.ts";
import { VALID } from "./fixtures.ts";

const json = (v: unknown) => JSON.stringify(v);

Deno.test("every topic's valid example parses and round-trips through encode", () => {
  for (const kind of TOPIC_KINDS) {
    const raw = json(VALID[kind]);
    const parsed = parseMessage(kind, raw);
    assert.ok(parsed.ok, `${kind}: ${!parsed.ok && parsed.error}`);
    assert.equal(parsed.text, raw, `${kind}: the text is the message as received`);
    const again = parseMessage(kind, encodeMessage(kind, parsed.value));
    assert.ok(again.ok, kind);
    assert.deepEqual(again.value, parsed.value, kind);
  }
});

Deno.test("parse accepts bytes as well as text, and gives the text as received", () => {
  const raw = ` ${json({ ...VALID.heartbeat, unknown_field: "é" })}\n`;
  const parsed = parseMessage("heartbeat", new TextEncoder().encode(raw));
  assert.ok(parsed.ok);
  assert.equal(parsed.text, raw);
  assert.ok(!("unknown_field" in parsed.value), "the value has only the schema's fields");
});

type Case = { name: string; kind: TopicKind; raw: string | Uint8Array | null; field: string };
const mutate = <K extends keyof MessageOf>(kind: K, patch: Record<string, unknown>) =>
  json({ ...VALID[kind], ...patch });
const without = <K extends keyof MessageOf>(kind: K, field: string) => {
  const copy: Record<string, unknown> = { ...VALID[kind] };
  delete copy[field];
  return json(copy);
};

const INVALID: Case[] = [
  { name: "null value", kind: "register", raw: null, field: "empty" },
  { name: "not JSON", kind: "register", raw: "{nope", field: "not valid JSON" },
  {
    name: "invalid UTF-8",
    kind: "register",
    raw: new Uint8Array([0xff, 0xfe]),
    field: "not valid JSON",
  },
  { name: "JSON array", kind: "trigger", raw: "[]", field: "(message)" },
  {
    name: "register without node_id",
    kind: "register",
    raw: without("register", "node_id"),
    field: "node_id",
  },
  {
    name: "register wrong type",
    kind: "register",
    raw: mutate("register", { message_type: "HELLO" }),
    field: "message_type",
  },
  {
    name: "register node_id with space",
    kind: "register",
    raw: mutate("register", { node_id: "a b" }),
    field: "node_id",
  },
  {
    name: "heartbeat NO",
    kind: "heartbeat",
    raw: mutate("heartbeat", { heartbeat: "NO" }),
    field: "heartbeat",
  },
  {
    name: "heartbeat negative time",
    kind: "heartbeat",
    raw: mutate("heartbeat", { timestamp: -1 }),
    field: "timestamp",
  },
  {
    name: "config unknown type",
    kind: "test_config",
    raw: mutate("test_config", { test_type: "FLOOD" }),
    field: "test_type",
  },
  {
    name: "config negative count",
    kind: "test_config",
    raw: mutate("test_config", { message_count_per_driver: -5 }),
    field: "message_count_per_driver",
  },
  {
    name: "config fractional count",
    kind: "test_config",
    raw: mutate("test_config", { message_count_per_driver: 1.5 }),
    field: "message_count_per_driver",
  },
  {
    name: "tsunami without delay",
    kind: "test_config",
    raw: mutate("test_config", { test_message_delay: 0 }),
    field: "test_message_delay",
  },
  {
    name: "avalanche with delay",
    kind: "test_config",
    raw: mutate("test_config", { test_type: "AVALANCHE", test_message_delay: 5 }),
    field: "test_message_delay",
  },
  {
    name: "tsunami with throughput",
    kind: "test_config",
    raw: mutate("test_config", { target_throughput: 100 }),
    field: "target_throughput",
  },
  {
    name: "ftp URL",
    kind: "test_config",
    raw: mutate("test_config", { target_url: "ftp://127.0.0.1/" }),
    field: "target_url",
  },
  {
    name: "relative URL",
    kind: "test_config",
    raw: mutate("test_config", { target_url: "/ping" }),
    field: "target_url",
  },
  {
    name: "zero connections",
    kind: "test_config",
    raw: mutate("test_config", { connections: 0 }),
    field: "connections",
  },
  {
    name: "connections above the 10,000 per driver cap",
    kind: "test_config",
    raw: mutate("test_config", { connections: 10_001 }),
    field: "connections",
  },
  {
    name: "no count and no duration",
    kind: "test_config",
    raw: mutate("test_config", { message_count_per_driver: 0 }),
    field: "message_count_per_driver",
  },
  {
    name: "header with CRLF",
    kind: "test_config",
    raw: mutate("test_config", { headers: { "x-a": "b\r\nEvil: 1" } }),
    field: "headers.x-a",
  },
  {
    name: "secret_headers naming no valid header",
    kind: "test_config",
    raw: mutate("test_config", { secret_headers: ["X-Ok", "bad name"] }),
    field: "secret_headers.1",
  },
  {
    name: "trigger unknown verb",
    kind: "trigger",
    raw: mutate("trigger", { trigger: "MAYBE" }),
    field: "trigger",
  },
  {
    name: "trigger YES without test_id",
    kind: "trigger",
    raw: without("trigger", "test_id"),
    field: "test_id",
  },
  {
    name: "metrics negative responses",
    kind: "metrics",
    raw: mutate("metrics", { responses: -1 }),
    field: "responses",
  },
  {
    name: "metrics NaN-ish latency",
    kind: "metrics",
    raw: mutate("metrics", { metrics: { ...VALID.metrics.metrics, mean_latency: "fast" } }),
    field: "metrics.mean_latency",
  },
  {
    name: "metrics without final",
    kind: "metrics",
    raw: without("metrics", "final"),
    field: "final",
  },
  {
    name: "metrics with a corrupt histogram",
    kind: "metrics",
    raw: mutate("metrics", { histogram: "HISTFAAAAnotreally" }),
    field: "histogram",
  },
  {
    name: "metrics without report_id",
    kind: "metrics",
    raw: without("metrics", "report_id"),
    field: "report_id",
  },
  {
    name: "metrics continuing from a later report",
    kind: "metrics",
    raw: mutate("metrics", { histograms_since: 3 }),
    field: "histograms_since",
  },
  {
    name: "a final metrics message that is not cumulative",
    kind: "metrics",
    raw: mutate("metrics", { histograms_since: 2, final: true }),
    field: "histograms_since",
  },
  {
    name: "metrics continuing from a negative report",
    kind: "metrics",
    raw: mutate("metrics", { histograms_since: -1 }),
    field: "histograms_since",
  },
];

for (const c of INVALID) {
  Deno.test(`parse rejects ${c.name}, naming "${c.field}"`, () => {
    const result = parseMessage(c.kind, c.raw);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.error.includes(c.field), !result.ok ? result.error : "");
  });
}

Deno.test("metrics continuing from an earlier report parse", () => {
  const parsed = parseMessage("metrics", mutate("metrics", { histograms_since: 2 }));
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  assert.equal(parsed.value.histograms_since, 2);
});

Deno.test("encode refuses an invalid message with a TypeError naming the field", () => {
  assert.throws(
    () => encodeMessage("heartbeat", { ...VALID.heartbeat, node_id: "" } as MessageOf["heartbeat"]),
    (err: Error) => err instanceof TypeError && err.message.includes("node_id"),
  );
});

Deno.test("test_config fills defaults for connections, timeout and method", () => {
  const { connections: _c, timeout_ms: _t, method: _m, ...rest } = VALID.test_config;
  const parsed = parseMessage("test_config", json(rest));
  assert.ok(parsed.ok);
  assert.equal(parsed.value.connections, 10);
  assert.equal(parsed.value.timeout_ms, 10_000);
  assert.equal(parsed.value.method, "GET");
});

Deno.test("test_config carries the real header values and the secret_headers marks", () => {
  const config = {
    ...VALID.test_config,
    headers: { Authorization: "Bearer s3cret", "X-My-Token": "tok3n" },
    secret_headers: ["x-my-token"],
  };
  const parsed = parseMessage("test_config", encodeMessage("test_config", config));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.headers, config.headers, "the drivers get what they must send");
  assert.deepEqual(parsed.value.secret_headers, ["x-my-token"]);
});

Deno.test("an avalanche with a throughput and a duration but no count is valid", () => {
  const parsed = parseMessage(
    "test_config",
    mutate("test_config", {
      test_type: "AVALANCHE",
      test_message_delay: 0,
      target_throughput: 1000,
      message_count_per_driver: 0,
      duration_s: 5,
    }),
  );
  assert.ok(parsed.ok, !parsed.ok ? parsed.error : "");
});

Deno.test("STOP and END triggers parse", () => {
  assert.ok(parseMessage("trigger", json({ trigger: "STOP", test_id: "t-1", timestamp: 1 })).ok);
  assert.ok(parseMessage("trigger", json({ trigger: "END", timestamp: 1 })).ok);
  assert.ok(parseMessage("trigger", json({ trigger: "END", timestamp: 1, drivers: ["one"] })).ok);
});

Deno.test("numbers out of bounds are refused at the edge, naming the field", () => {
  const m = VALID.metrics;
  const table: [string, TopicKind, string, RegExp][] = [
    [
      "a timestamp a Date cannot hold",
      "heartbeat",
      mutate("heartbeat", { timestamp: 9e15 }),
      /timestamp/,
    ],
    ["elapsed_ms of 1e12", "metrics", mutate("metrics", { elapsed_ms: 1e12 }), /elapsed_ms/],
    [
      "report_id far beyond a day of reports",
      "metrics",
      mutate("metrics", { report_id: 1e9 }),
      /report_id/,
    ],
    [
      "requests that do not add up",
      "metrics",
      mutate("metrics", { requests: m.requests + 5 }),
      /requests: must equal responses \+ errors \+ unfinished/,
    ],
    [
      "status codes that do not add up to responses",
      "metrics",
      mutate("metrics", { status_codes: { "200": 1 } }),
      /status_codes: must add up to responses/,
    ],
    [
      "error kinds that do not add up to errors",
      "metrics",
      mutate("metrics", { error_kinds: {} }),
      /error_kinds: must add up to errors/,
    ],
    [
      "a histogram payload over the size cap",
      "metrics",
      mutate("metrics", { histogram: "A".repeat(1_000_004) }),
      /histogram/,
    ],
    [
      "an instance id with a slash",
      "heartbeat",
      mutate("heartbeat", { instance_id: "a/b" }),
      /instance_id/,
    ],
  ];
  for (const [name, kind, raw, field] of table) {
    const parsed = parseMessage(kind, raw);
    assert.ok(!parsed.ok, name);
    assert.match(parsed.error, field, name);
  }
});

Deno.test("with the receiver's clock, a timestamp more than a day off is refused", () => {
  const now = VALID.heartbeat.timestamp;
  const day = 86_400_000;
  const table: [number, boolean][] = [
    [now, true],
    [now + 60_000, true],
    [now - 300_000, true],
    [now + day, true],
    [now + day + 1, false],
    [now - day - 1, false],
  ];
  for (const [timestamp, ok] of table) {
    const parsed = parseMessage("heartbeat", mutate("heartbeat", { timestamp }), now);
    assert.equal(parsed.ok, ok, `${timestamp - now} ms off`);
    if (!parsed.ok) assert.match(parsed.error, /more than a day from this host's clock/);
  }
  // Without a clock (replaying stored data, unit tests) only the schema applies.
  assert.ok(parseMessage("heartbeat", mutate("heartbeat", { timestamp: now - 10 * day })).ok);
});
