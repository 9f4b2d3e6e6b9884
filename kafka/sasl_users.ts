/**
 * The SCRAM users of the local SASL broker: `admin` (the broker itself and whoever manages it),
 * `orchestrator` and `driver`. Their passwords are given (SURGE_KAFKA_<USER>_PASSWORD) or drawn
 * at random on the first start, and kept in the data dir, one file per user readable by its
 * owner only, so components can use them as KAFKA_SASL_PASSWORD_FILE. The users are bootstrapped
 * into the KRaft storage when it is formatted (`--add-scram`): a broker that was formatted once
 * keeps its passwords until it is wiped.
 */
import { exists } from "./jars.ts";

/** The broker's users, by their SCRAM names. */
export const SASL_USERS = ["admin", "orchestrator", "driver"] as const;

/** One of {@link SASL_USERS}. */
export type SaslUser = typeof SASL_USERS[number];

/** The mechanism clients of the local broker use, as KAFKA_SASL_MECHANISM spells it. */
export const LOCAL_SASL_MECHANISM = "scram-sha-512";

/**
 * What a password may hold: it is written unquoted into `--add-scram` (which splits on `,`, `=`
 * and brackets) and quoted into a JAAS line (where `"` and `\` would need escaping).
 */
export const PASSWORD_PATTERN = /^[A-Za-z0-9._~-]{12,200}$/;

/** The variable that gives `user`'s password to `deno task kafka --sasl`. */
export function passwordVariable(user: SaslUser): string {
  return `SURGE_KAFKA_${user.toUpperCase()}_PASSWORD`;
}

/** Where `user`'s password is kept in a broker's data dir. */
export function passwordFile(dataDir: string, user: SaslUser): string {
  return `${dataDir}/sasl/${user}.password`;
}

/** 32 random characters of {@link PASSWORD_PATTERN} (192 bits). */
export function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", ".").replaceAll("/", "_");
}

/** The storage tool's arguments that create every user with its password. */
export function addScramArgs(passwords: Readonly<Record<SaslUser, string>>): string[] {
  return SASL_USERS.flatMap((user) => [
    "--add-scram",
    `SCRAM-SHA-512=[name=${user},password=${passwords[user]}]`,
  ]);
}

/**
 * The users' passwords for a broker whose data dir is `dataDir`. A fresh storage (`formatted`
 * false) takes the `given` ones or random ones, written to {@link passwordFile}s (0600, in a
 * 0700 folder). A formatted one must have been formatted with SASL: its files hold the passwords
 * its users were created with, and a given password that differs is an error (it would not work).
 */
export async function settlePasswords(
  dataDir: string,
  given: Partial<Record<SaslUser, string>>,
  formatted: boolean,
): Promise<Record<SaslUser, string>> {
  const passwords = {} as Record<SaslUser, string>;
  if (formatted) {
    for (const user of SASL_USERS) {
      const file = passwordFile(dataDir, user);
      if (!(await exists(file))) {
        throw new Error(
          `The Kafka data dir ${dataDir} was formatted without --sasl (no ${file}); ` +
            "start with --wipe to create it again with SASL users",
        );
      }
      passwords[user] = (await Deno.readTextFile(file)).trim();
      if (given[user] !== undefined && given[user] !== passwords[user]) {
        throw new Error(
          `${passwordVariable(user)} differs from the password ${user} was created with ` +
            `(${file}); the broker keeps its users until its data dir is wiped: use --wipe`,
        );
      }
    }
    return passwords;
  }
  await Deno.mkdir(`${dataDir}/sasl`, { recursive: true, mode: 0o700 });
  await Deno.chmod(`${dataDir}/sasl`, 0o700);
  for (const user of SASL_USERS) {
    passwords[user] = given[user] ?? randomPassword();
    const file = passwordFile(dataDir, user);
    await Deno.writeTextFile(file, `${passwords[user]}\n`, { mode: 0o600 });
    // mode applies only to a new file: an earlier run's file keeps whatever mode it had.
    await Deno.chmod(file, 0o600);
  }
  return passwords;
}
