import assert from "node:assert/strict";
import { refusalOf, signCommand, signIfKeyed } from "../../shared/command_signature.ts";
import { FleetKey, fleetKeyText } from "../../shared/fleet_key.ts";
import {
  encodeMessage,
  type MessageOf,
  parseMessage,
  type TestConfigInput,
  type TriggerMessage,
} from "../../shared/messages.ts";

const KEY = new FleetKey("k".repeat(32));
const OTHER = new FleetKey("o".repeat(32));
const CONFIG: TestConfigInput = {
  test_id: "t1",
  test_type: "AVALANCHE",
  test_message_delay: 0,
  message_count_per_driver: 100,
  target_url: "http://127.0.0.1:8080/ping",
};
const YES: TriggerMessage = { trigger: "YES", test_id: "t1", timestamp: 1_800_000_000_000 };

/** A command as a reader gets it: encoded for the wire, then parsed. */
function overTheWire<K extends "test_config" | "trigger">(kind: K, message: unknown): MessageOf[K] {
  const parsed = parseMessage(kind, encodeMessage(kind, message as never));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

Deno.test("refusalOf() obeys only commands signed with its fleet key, and all without one", () => {
  const signedConfig = signCommand("test_config", CONFIG, KEY);
  const signedYes = signCommand("trigger", YES, KEY);
  const rows: [string, "test_config" | "trigger", unknown, FleetKey | undefined, string?][] = [
    ["a signed config", "test_config", signedConfig, KEY],
    ["a signed trigger", "trigger", signedYes, KEY],
    ["a signed END", "trigger", signCommand("trigger", { trigger: "END", timestamp: 1 }, KEY), KEY],
    ["an unsigned trigger", "trigger", YES, KEY, "unsigned"],
    ["an unsigned config", "test_config", CONFIG, KEY, "unsigned"],
    [
      "a trigger signed with another key",
      "trigger",
      signCommand("trigger", YES, OTHER),
      KEY,
      "bad",
    ],
    [
      "a signed config aimed elsewhere",
      "test_config",
      {
        ...signedConfig,
        target_url: "http://169.254.169.254/",
      },
      KEY,
      "bad",
    ],
    ["a signed YES turned into a STOP", "trigger", { ...signedYes, trigger: "STOP" }, KEY, "bad"],
    [
      "a config's signature on a trigger",
      "trigger",
      {
        ...YES,
        signature: signedConfig.signature,
      },
      KEY,
      "bad",
    ],
    ["a made-up signature", "trigger", { ...YES, signature: "0".repeat(64) }, KEY, "bad"],
    ["an unsigned trigger, no key", "trigger", YES, undefined],
    [
      "a trigger signed with some key, no key",
      "trigger",
      signCommand("trigger", YES, OTHER),
      undefined,
    ],
  ];
  for (const [name, kind, message, key, want] of rows) {
    const reason = refusalOf(kind, overTheWire(kind, message), key);
    if (want === undefined) assert.equal(reason, undefined, name);
    else assert.ok(reason?.startsWith(want), `${name}: ${reason}`);
  }
});

Deno.test("a signature holds whatever the key order and the defaults a reader fills in", () => {
  const signed = signCommand("test_config", CONFIG, KEY);
  // The signer fills in the defaults the reader's schema would, and signs those.
  assert.equal(signed.connections, 10);
  assert.match(signed.signature!, /^[0-9a-f]{64}$/);
  const reversed = Object.fromEntries(Object.entries(signed).reverse());
  assert.equal(refusalOf("test_config", overTheWire("test_config", reversed), KEY), undefined);
  // HMAC is deterministic: the same config signs the same, a duplicate on Kafka is a duplicate.
  assert.equal(signCommand("test_config", { ...CONFIG }, KEY).signature, signed.signature);
  // Signing again replaces an old signature rather than covering it.
  assert.equal(signCommand("test_config", signed, KEY).signature, signed.signature);
});

Deno.test("signIfKeyed() leaves a command as it is without a key", () => {
  assert.deepEqual(signIfKeyed("trigger", YES, undefined), YES);
  assert.equal(
    signIfKeyed("trigger", YES, KEY).signature,
    signCommand("trigger", YES, KEY).signature,
  );
  assert.throws(
    () => signCommand("trigger", { trigger: "YES", test_id: "bad id!", timestamp: 1 }, KEY),
    /Refusing to sign an invalid trigger message: test_id/,
  );
});

Deno.test("the wire refuses a signature that is not 64 lowercase hex digits", () => {
  for (const signature of ["", "abc", "A".repeat(64), "0".repeat(65)]) {
    const raw = JSON.stringify({ ...YES, signature });
    const parsed: { ok: boolean } = parseMessage("trigger", raw);
    assert.equal(parsed.ok, false, signature);
  }
});

Deno.test("a fleet key needs 32 characters and never shows itself", () => {
  const secret = "correct horse battery staple 1234";
  const key = new FleetKey(secret);
  for (const shown of [String(key), JSON.stringify({ key }), Deno.inspect(key)]) {
    assert.ok(!shown.includes(secret), shown);
  }
  assert.throws(() => new FleetKey("x".repeat(31)), RangeError);
  const short = fleetKeyText.safeParse("hunter2");
  assert.equal(short.success, false);
  assert.ok(!JSON.stringify(short.error).includes("hunter2"), "the problem names no secret");
  assert.ok(fleetKeyText.parse("x".repeat(32)) instanceof FleetKey);
});
