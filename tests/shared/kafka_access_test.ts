import assert from "node:assert/strict";
import { z } from "zod";
import { validate } from "../../shared/cli_args.ts";
import { kafkaEnv, kafkaEnvShape } from "../../shared/config.ts";
import {
  accessVariables,
  type KafkaAccess,
  parseKafkaAccess,
  SecretText,
} from "../../shared/kafka_access.ts";
import { kafkaClientOptions } from "../../shared/kafka_client_options.ts";
import { UsageError } from "../../shared/usage_error.ts";

const PASSWORD = "s3cret-Pa55";

/** The access of `env` as plain data (the inline password revealed), or its problems. */
function read(env: Record<string, string>): unknown {
  const { access, problems } = parseKafkaAccess(accessVariables(env));
  if (problems.length > 0) return problems;
  // The holder's own value: `v` has been through SecretText's toJSON already.
  return JSON.parse(JSON.stringify(access, function (this: Record<string, unknown>, k, v) {
    const own = this[k];
    return own instanceof SecretText ? own.reveal() : v;
  }));
}

Deno.test("parseKafkaAccess() turns KAFKA_SSL and KAFKA_SASL variables into settings", () => {
  const table: [string, Record<string, string>, unknown][] = [
    ["nothing set: plaintext", {}, {}],
    ["empty values count as unset", { KAFKA_SSL: "", KAFKA_SASL_MECHANISM: " " }, {}],
    ["TLS with the system's CAs", { KAFKA_SSL: "1" }, { tls: { rejectUnauthorized: true } }],
    ["KAFKA_SSL=0 is off", { KAFKA_SSL: "false" }, {}],
    ["TLS with a CA, a client certificate and no verification", {
      KAFKA_SSL: "true",
      KAFKA_SSL_CA_FILE: "/ca.pem",
      KAFKA_SSL_CERT_FILE: "/c.pem",
      KAFKA_SSL_KEY_FILE: "/k.pem",
      KAFKA_SSL_REJECT_UNAUTHORIZED: "0",
    }, {
      tls: { caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem", rejectUnauthorized: false },
    }],
    ["SCRAM with an inline password; the mechanism's case does not matter", {
      KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      KAFKA_SASL_USERNAME: "driver",
      KAFKA_SASL_PASSWORD: PASSWORD,
    }, { sasl: { mechanism: "scram-sha-512", username: "driver", password: { text: PASSWORD } } }],
    ["PLAIN over TLS with a password file", {
      KAFKA_SSL: "yes",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD_FILE: "/pw",
    }, {
      tls: { rejectUnauthorized: true },
      sasl: { mechanism: "plain", username: "u", password: { file: "/pw" } },
    }],
    ["bad switches and a lone certificate", {
      KAFKA_SSL: "maybe",
      KAFKA_SSL_REJECT_UNAUTHORIZED: "nope",
    }, [
      'KAFKA_SSL must be 1 or 0 (true or false), got "maybe"',
      'KAFKA_SSL_REJECT_UNAUTHORIZED must be 1 or 0 (true or false), got "nope"',
      "KAFKA_SSL_REJECT_UNAUTHORIZED is set but KAFKA_SSL is not: set KAFKA_SSL=1 to use TLS",
    ]],
    ["TLS files without KAFKA_SSL", { KAFKA_SSL_CA_FILE: "/ca.pem" }, [
      "KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not: set KAFKA_SSL=1 to use TLS",
    ]],
    ["a certificate without its key", { KAFKA_SSL: "1", KAFKA_SSL_CERT_FILE: "/c.pem" }, [
      "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: a client certificate needs its key",
    ]],
    ["an unknown mechanism, no username, no password: all at once", {
      KAFKA_SASL_MECHANISM: "gssapi",
    }, [
      'KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, got "gssapi"',
      "KAFKA_SASL_MECHANISM=gssapi needs KAFKA_SASL_USERNAME",
      "KAFKA_SASL_MECHANISM=gssapi needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE",
    ]],
    ["both password sources", {
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: PASSWORD,
      KAFKA_SASL_PASSWORD_FILE: "/pw",
    }, ["set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both"]],
    ["credentials without a mechanism", {
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: PASSWORD,
    }, [
      "KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not: set it to plain, scram-sha-256, scram-sha-512",
      "KAFKA_SASL_PASSWORD is set but KAFKA_SASL_MECHANISM is not: set it to plain, scram-sha-256, scram-sha-512",
    ]],
  ];
  for (const [name, env, want] of table) assert.deepEqual(read(env), want, name);
});

Deno.test("a password never shows in problems, JSON, String() or Deno.inspect()", () => {
  const env = { KAFKA_SASL_MECHANISM: "nope", KAFKA_SASL_PASSWORD: PASSWORD };
  const { problems } = parseKafkaAccess(accessVariables(env));
  assert.ok(problems.length > 0);
  assert.ok(!problems.join("\n").includes(PASSWORD));
  const { access } = parseKafkaAccess(accessVariables({ ...env, KAFKA_SASL_MECHANISM: "plain" }));
  const secret = new SecretText(PASSWORD);
  for (const shown of [JSON.stringify(access), String(secret), Deno.inspect({ access, secret })]) {
    assert.ok(!shown.includes(PASSWORD), shown);
  }
});

Deno.test("every entry point's Kafka settings report access problems beside the others", () => {
  const schema = z.object(kafkaEnvShape);
  const given = kafkaEnv({
    KAFKA_BROKERS: "nohost",
    KAFKA_SSL: "2",
    KAFKA_SASL_MECHANISM: "plain",
    KAFKA_SASL_USERNAME: "u",
    KAFKA_SASL_PASSWORD: PASSWORD,
  });
  let problems: readonly string[] = [];
  try {
    validate(schema, given);
  } catch (err) {
    problems = (err as UsageError).problems;
  }
  assert.deepEqual(problems, [
    'KAFKA_BROKERS has an invalid entry "nohost": expected host:port with a port 1-65535',
    'KAFKA_SSL must be 1 or 0 (true or false), got "2"',
  ]);
  const ok = validate(schema, kafkaEnv({ KAFKA_SSL: "1" }));
  assert.deepEqual(ok.access, { tls: { rejectUnauthorized: true } });
});

const FILES: Record<string, string> = {
  "/ca.pem": "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
  "/c.pem": "-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n",
  "/k.pem": "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n",
  "/pw": `${PASSWORD}\n`,
  "/empty": "\n",
  "/not-pem": "hello",
};

function readFake(path: string): string {
  const text = FILES[path];
  if (text === undefined) throw new Deno.errors.NotFound(`No such file: ${path}`);
  return text;
}

/** kafkaClientOptions() of `access` with {@link FILES}, or its problems. */
function options(access: KafkaAccess): unknown {
  try {
    return kafkaClientOptions(access, readFake);
  } catch (err) {
    if (err instanceof UsageError) return err.problems;
    throw err;
  }
}

Deno.test("kafkaClientOptions() reads the named files into kafkajs's ssl and sasl options", () => {
  const table: [string, KafkaAccess, unknown][] = [
    ["plaintext: nothing to add", {}, {}],
    ["TLS with every file", {
      tls: { caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem", rejectUnauthorized: true },
    }, {
      ssl: {
        rejectUnauthorized: true,
        ca: [FILES["/ca.pem"]],
        cert: FILES["/c.pem"],
        key: FILES["/k.pem"],
      },
    }],
    ["TLS without verification", { tls: { rejectUnauthorized: false } }, {
      ssl: { rejectUnauthorized: false },
    }],
    ["SCRAM with a password file: its trailing newline is not the password", {
      sasl: { mechanism: "scram-sha-256", username: "o", password: { file: "/pw" } },
    }, { sasl: { mechanism: "scram-sha-256", username: "o", password: PASSWORD } }],
    ["an inline password", {
      sasl: { mechanism: "plain", username: "o", password: { text: new SecretText(PASSWORD) } },
    }, { sasl: { mechanism: "plain", username: "o", password: PASSWORD } }],
    ["every unusable file at once", {
      tls: {
        caFile: "/missing",
        certFile: "/not-pem",
        keyFile: "/k.pem",
        rejectUnauthorized: true,
      },
      sasl: { mechanism: "plain", username: "o", password: { file: "/empty" } },
    }, [
      "KAFKA_SSL_CA_FILE cannot be read: No such file: /missing",
      'KAFKA_SSL_CERT_FILE is not a PEM file (no "-----BEGIN" line): /not-pem',
      "KAFKA_SASL_PASSWORD_FILE names an empty file: /empty",
    ]],
  ];
  for (const [name, access, want] of table) assert.deepEqual(options(access), want, name);
});
