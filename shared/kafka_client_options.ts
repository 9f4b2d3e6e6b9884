/**
 * {@link KafkaAccess} as kafkajs's `ssl` and `sasl` options, with the files it names read by the
 * caller's reader (only `main.ts` files pass a real one). Every file that cannot be used is
 * reported at once, as a {@link UsageError} naming its variable: a typo in a path is bad usage.
 */
import type { KafkaConfig, SASLOptions } from "kafkajs";
import type { KafkaAccess } from "./kafka_access.ts";
import { UsageError } from "./usage_error.ts";

/** What to spread into every `new Kafka({...})`: nothing for a plaintext cluster. */
export type KafkaClientAccess = Pick<KafkaConfig, "ssl" | "sasl">;

/** Reads a text file, throwing on failure (`Deno.readTextFileSync` in `main.ts`). */
export type ReadTextFile = (path: string) => string;

/** Why a file could not be read, in the words of the error, without a stack. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The kafkajs options for `access`, reading its CA, certificate, key and password files with
 * `read`. A password file's trailing newline is not part of the password (`echo pw > file`).
 */
export function kafkaClientOptions(access: KafkaAccess, read: ReadTextFile): KafkaClientAccess {
  const problems: string[] = [];
  const file = (variable: string, path: string, pem: boolean): string | undefined => {
    let text: string;
    try {
      text = read(path);
    } catch (err) {
      problems.push(`${variable} cannot be read: ${reason(err)}`);
      return undefined;
    }
    if (pem && !text.includes("-----BEGIN ")) {
      problems.push(`${variable} is not a PEM file (no "-----BEGIN" line): ${path}`);
      return undefined;
    }
    if (!pem && text.replace(/\r?\n$/, "") === "") {
      problems.push(`${variable} names an empty file: ${path}`);
      return undefined;
    }
    return text;
  };
  const options: KafkaClientAccess = {};
  const { tls, sasl } = access;
  if (tls) {
    const ca = tls.caFile === undefined ? undefined : file("KAFKA_SSL_CA_FILE", tls.caFile, true);
    const cert = tls.certFile === undefined
      ? undefined
      : file("KAFKA_SSL_CERT_FILE", tls.certFile, true);
    const key = tls.keyFile === undefined
      ? undefined
      : file("KAFKA_SSL_KEY_FILE", tls.keyFile, true);
    options.ssl = {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(ca !== undefined && { ca: [ca] }),
      ...(cert !== undefined && { cert }),
      ...(key !== undefined && { key }),
    };
  }
  if (sasl) {
    const password = "text" in sasl.password
      ? sasl.password.text.reveal()
      : file("KAFKA_SASL_PASSWORD_FILE", sasl.password.file, false)?.replace(/\r?\n$/, "");
    if (password !== undefined) {
      // kafkajs types each mechanism apart; all three take the same username and password.
      options.sasl = {
        mechanism: sasl.mechanism,
        username: sasl.username,
        password,
      } as SASLOptions;
    }
  }
  if (problems.length > 0) throw new UsageError(problems);
  return options;
}
