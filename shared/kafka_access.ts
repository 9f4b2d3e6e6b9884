/**
 * How a Kafka client proves who it is and protects the link: TLS and SASL settings read from
 * the environment, the same variables for every component. Parsing is pure and reports every
 * problem at once; reading the files it names is `kafka_client_options.ts`'s job. A password
 * never appears in a problem, a log line or a JSON dump (see {@link SecretText}).
 */
import { z } from "zod";
import type { Env } from "./cli_args.ts";

/** The SASL mechanisms surge's Kafka client (kafkajs) speaks with a username and password. */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;

/** One of {@link SASL_MECHANISMS}. */
export type SaslMechanism = typeof SASL_MECHANISMS[number];

/** Every variable this module reads; nothing else about Kafka access comes from the environment. */
export const ACCESS_VARIABLES = [
  "KAFKA_SSL",
  "KAFKA_SSL_CA_FILE",
  "KAFKA_SSL_CERT_FILE",
  "KAFKA_SSL_KEY_FILE",
  "KAFKA_SSL_REJECT_UNAUTHORIZED",
  "KAFKA_SASL_MECHANISM",
  "KAFKA_SASL_USERNAME",
  "KAFKA_SASL_PASSWORD",
  "KAFKA_SASL_PASSWORD_FILE",
] as const;

type AccessVariable = typeof ACCESS_VARIABLES[number];

/**
 * A secret that stays out of every log: `String()`, `JSON.stringify()` and Deno's inspector
 * (which the logger and `console.log` use) all print `[redacted]`; only {@link reveal} gives it.
 */
export class SecretText {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  /** The secret itself, for the one place that must hand it on (the Kafka client). */
  reveal(): string {
    return this.#text;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [Symbol.for("Deno.customInspect")](): string {
    return "[redacted]";
  }
}

/** TLS to the brokers; files are PEM. */
export interface TlsAccess {
  /** CA certificates to trust instead of the system's. */
  caFile?: string;
  /** A client certificate and its key, for brokers that ask for one (mutual TLS). */
  certFile?: string;
  keyFile?: string;
  /** Off only for testing: then any broker certificate is accepted. */
  rejectUnauthorized: boolean;
}

/** SASL with a username and a password given inline or in a file. */
export interface SaslAccess {
  mechanism: SaslMechanism;
  username: string;
  password: { text: SecretText } | { file: string };
}

/** How to reach Kafka: neither set means plaintext without authentication (the default). */
export interface KafkaAccess {
  tls?: TlsAccess;
  sasl?: SaslAccess;
}

/** The access variables of `env` that are set; empty ones count as unset, as KAFKA_BROKERS does. */
export function accessVariables(env: Env): Partial<Record<AccessVariable, string>> {
  const set: Partial<Record<AccessVariable, string>> = {};
  for (const name of ACCESS_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") set[name] = value;
  }
  return set;
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

/** A switch's value, `fallback` when unset, or a problem naming the variable and its value. */
function readSwitch(
  vars: Partial<Record<AccessVariable, string>>,
  name: AccessVariable,
  fallback: boolean,
  problems: string[],
): boolean {
  const text = vars[name]?.trim().toLowerCase();
  if (text === undefined) return fallback;
  if (TRUE.includes(text)) return true;
  if (FALSE.includes(text)) return false;
  problems.push(`${name} must be 1 or 0 (true or false), got ${JSON.stringify(vars[name])}`);
  return fallback;
}

/** The TLS settings, or undefined when TLS is off; problems go to `problems`. */
function readTls(
  vars: Partial<Record<AccessVariable, string>>,
  problems: string[],
): TlsAccess | undefined {
  const on = readSwitch(vars, "KAFKA_SSL", false, problems);
  const rejectUnauthorized = readSwitch(vars, "KAFKA_SSL_REJECT_UNAUTHORIZED", true, problems);
  const { KAFKA_SSL_CA_FILE: caFile, KAFKA_SSL_CERT_FILE: certFile } = vars;
  const keyFile = vars.KAFKA_SSL_KEY_FILE;
  if (!on) {
    for (const name of ACCESS_VARIABLES) {
      if (name.startsWith("KAFKA_SSL_") && vars[name] !== undefined) {
        problems.push(`${name} is set but KAFKA_SSL is not: set KAFKA_SSL=1 to use TLS`);
      }
    }
    return undefined;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push(
      "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: a client certificate needs its key",
    );
  }
  return {
    ...(caFile !== undefined && { caFile }),
    ...(certFile !== undefined && { certFile }),
    ...(keyFile !== undefined && { keyFile }),
    rejectUnauthorized,
  };
}

/** The SASL settings, or undefined without a mechanism; problems go to `problems`. */
function readSasl(
  vars: Partial<Record<AccessVariable, string>>,
  problems: string[],
): SaslAccess | undefined {
  const given = vars.KAFKA_SASL_MECHANISM;
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = vars;
  const passwordFile = vars.KAFKA_SASL_PASSWORD_FILE;
  if (given === undefined) {
    for (const name of ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD_FILE"]) {
      if (vars[name as AccessVariable] !== undefined) {
        problems.push(
          `${name} is set but KAFKA_SASL_MECHANISM is not: set it to ${SASL_MECHANISMS.join(", ")}`,
        );
      }
    }
    return undefined;
  }
  const mechanism = SASL_MECHANISMS.find((m) => m === given.trim().toLowerCase());
  if (mechanism === undefined) {
    problems.push(
      `KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(", ")}, got ${
        JSON.stringify(given)
      }`,
    );
  }
  const needs = `KAFKA_SASL_MECHANISM=${given.trim()} needs`;
  if (username === undefined) problems.push(`${needs} KAFKA_SASL_USERNAME`);
  if (password !== undefined && passwordFile !== undefined) {
    problems.push("set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both");
  } else if (password === undefined && passwordFile === undefined) {
    problems.push(`${needs} KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE`);
  }
  if (mechanism === undefined || username === undefined) return undefined;
  if (password !== undefined) {
    return { mechanism, username, password: { text: new SecretText(password) } };
  }
  if (passwordFile !== undefined) return { mechanism, username, password: { file: passwordFile } };
  return undefined;
}

/**
 * The Kafka access settings of `vars` (see {@link accessVariables}), or every problem with them,
 * each naming its variable. A password's value is never quoted in a problem.
 */
export function parseKafkaAccess(
  vars: Partial<Record<AccessVariable, string>>,
): { access: KafkaAccess; problems: string[] } {
  const problems: string[] = [];
  const tls = readTls(vars, problems);
  const sasl = readSasl(vars, problems);
  return { access: { ...(tls && { tls }), ...(sasl && { sasl }) }, problems };
}

/**
 * The access variables as one value for `validate()` (shared/cli_args.ts): each problem is one
 * issue whose text names its variable, so its {@link Given} carries an empty name.
 */
export const kafkaAccessSchema = z.record(z.string(), z.string()).transform((vars, ctx) => {
  const { access, problems } = parseKafkaAccess(vars);
  for (const message of problems) ctx.addIssue({ code: "custom", message, input: undefined });
  return access;
});

/** Whether any TLS or SASL setting is in effect. */
export function usesAccess(access: KafkaAccess): boolean {
  return access.tls !== undefined || access.sasl !== undefined;
}
