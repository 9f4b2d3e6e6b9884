/**
 * The fleet key: the secret shared by the orchestrators, the drivers and `deno task end`, read
 * from `SURGE_FLEET_KEY` (never a flag: a command line is visible to every user of the host in
 * `ps`). With it, every `test_config` and `trigger` is signed and checked
 * (shared/command_signature.ts), so whoever can merely write to the Kafka topics cannot aim the
 * fleet. The key object keeps the secret to itself: it logs, prints and serialises as a
 * placeholder.
 */
import { createHmac } from "node:crypto";
import { z } from "zod";
import type { Env, Given } from "./cli_args.ts";

/** The variable that holds the key. */
export const FLEET_KEY_VARIABLE = "SURGE_FLEET_KEY";

/**
 * The shortest key taken: 32 characters. `openssl rand -base64 32` gives 44 characters with 256
 * bits of randomness, the HMAC-SHA-256 key size; a short word would be guessed offline from one
 * signed message.
 */
export const MIN_FLEET_KEY_LENGTH = 32;

/** What a key printed, logged or serialised shows instead of the secret. */
const REDACTED = "[fleet key redacted]";

/** The fleet's shared secret, as an HMAC-SHA-256 key. */
export class FleetKey {
  readonly #secret: Uint8Array;

  /** Throws RangeError for a key shorter than {@link MIN_FLEET_KEY_LENGTH} characters. */
  constructor(text: string) {
    if (text.length < MIN_FLEET_KEY_LENGTH) {
      throw new RangeError(`a fleet key needs at least ${MIN_FLEET_KEY_LENGTH} characters`);
    }
    this.#secret = new TextEncoder().encode(text);
  }

  /**
   * HMAC-SHA-256 of `text` under the key, in lowercase hex. Synchronous (node:crypto rather than
   * WebCrypto's promise), so a Kafka handler checks a command in line and the messages of a topic
   * are still handled one after the other, in order.
   */
  hmacHex(text: string): string {
    return createHmac("sha256", this.#secret).update(text, "utf8").digest("hex");
  }

  /** Never the secret. */
  toString(): string {
    return REDACTED;
  }

  /** Never the secret (JSON logs, JSON.stringify of a config). */
  toJSON(): string {
    return REDACTED;
  }

  /** Never the secret (console.log, Deno.inspect). */
  [Symbol.for("Deno.customInspect")](): string {
    return REDACTED;
  }
}

/** `SURGE_FLEET_KEY` text → a {@link FleetKey}; a short one is named without being shown. */
export const fleetKeyText = z.string().transform((text, ctx) => {
  if (text.length < MIN_FLEET_KEY_LENGTH) {
    ctx.addIssue({
      code: "custom",
      // Not the text as `input`: the problem line must not print the secret, however short.
      input: null,
      message: `must be at least ${MIN_FLEET_KEY_LENGTH} characters (it has ${text.length}); ` +
        "make one with `openssl rand -base64 32`",
    });
    return z.NEVER;
  }
  return new FleetKey(text);
});

/**
 * The key as given, for a config schema's `fleetKey: fleetKeyText.optional()`. Unset or empty
 * means no key: commands go unsigned and unsigned ones are accepted.
 */
export function fleetKeyEnv(env: Env): Given {
  const text = env[FLEET_KEY_VARIABLE];
  return { name: FLEET_KEY_VARIABLE, value: text === "" ? undefined : text };
}
