/**
 * Signed commands. With a fleet key, whoever publishes a `test_config` or `trigger` signs it, and
 * every reader with the key (drivers, and orchestrators mirroring the cluster's tests) refuses one
 * that is unsigned or whose signature does not match. So a cluster where anyone may write to the
 * topics still cannot be used to aim the fleet at a target of the writer's choosing.
 *
 * The signature is HMAC-SHA-256 over `<kind>\n<canonical JSON of the message without signature>`:
 * canonical, so key order and the defaults a reader fills in cannot break it; the kind, so a
 * signature made for one topic is worthless on the other.
 */
import { canonicalJson } from "./canonical_json.ts";
import type { FleetKey } from "./fleet_key.ts";
import {
  describeIssues,
  type InputOf,
  type MessageOf,
  testConfigSchema,
  triggerSchema,
} from "./messages.ts";

/** The topics that command the fleet. */
export type CommandKind = "test_config" | "trigger";

const SCHEMAS = { test_config: testConfigSchema, trigger: triggerSchema } as const;

/** A command without its signature: what is signed, stored and compared. */
export function withoutSignature<T extends { signature?: string }>(
  message: T,
): Omit<T, "signature"> {
  const { signature: _signature, ...rest } = message;
  return rest;
}

/** The text the signature covers. */
function signedText(kind: CommandKind, message: object): string {
  return `${kind}\n${canonicalJson(withoutSignature(message as { signature?: string }))}`;
}

/**
 * `message` as it goes on the wire (defaults filled in, as a reader will see it), signed with
 * `key`. Throws TypeError for an invalid message, as encodeMessage does.
 */
export function signCommand<K extends CommandKind>(
  kind: K,
  message: InputOf[K],
  key: FleetKey,
): MessageOf[K] {
  const parsed = SCHEMAS[kind].safeParse(message);
  if (!parsed.success) {
    throw new TypeError(
      `Refusing to sign an invalid ${kind} message: ${describeIssues(parsed.error.issues)}`,
    );
  }
  const unsigned = withoutSignature(parsed.data);
  return { ...unsigned, signature: key.hmacHex(signedText(kind, unsigned)) } as MessageOf[K];
}

/** `message` signed when there is a key, as it is otherwise: what every publisher sends. */
export function signIfKeyed<K extends CommandKind>(
  kind: K,
  message: InputOf[K],
  key: FleetKey | undefined,
): InputOf[K] {
  return key === undefined ? message : signCommand(kind, message, key);
}

/**
 * Why a received command must be refused, or undefined when it may be obeyed: with no key every
 * command is (an unsigned fleet, as before); with one, only a command signed with that key.
 */
export function refusalOf<K extends CommandKind>(
  kind: K,
  message: MessageOf[K],
  key: FleetKey | undefined,
): string | undefined {
  if (key === undefined) return undefined;
  if (message.signature === undefined) return "unsigned";
  const expected = key.hmacHex(signedText(kind, message));
  return constantTimeEqual(expected, message.signature)
    ? undefined
    : "bad signature (forged, altered, or signed with another fleet key)";
}

/** A refused command, as it is logged: what was refused and why, and which test it named. */
export interface RefusedCommand {
  why: string;
  fields: { test_id?: string; trigger?: string };
}

/** {@link refusalOf}, put as the one log line every receiver writes for a refused command. */
export function refusedCommand<K extends CommandKind>(
  kind: K,
  message: MessageOf[K],
  key: FleetKey | undefined,
): RefusedCommand | undefined {
  const reason = refusalOf(kind, message, key);
  if (reason === undefined) return undefined;
  return {
    why: `refused a ${kind}: ${reason}`,
    fields: {
      test_id: "test_id" in message ? message.test_id : undefined,
      trigger: "trigger" in message ? message.trigger : undefined,
    },
  };
}

/** String equality whose time does not say how many leading characters matched. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
