/**
 * The orchestrator's API token: its format, where it lives and how each side finds it. The
 * orchestrator uses `SURGE_API_TOKEN`, else the file `api_token` in its data dir, created on its
 * first start (mode 0600, 256 random bits) and reused after. A client (`loadtest`, `end`, `up`)
 * uses `SURGE_API_TOKEN`, else the same file under `SURGE_DATA_DIR` (default
 * `.data/orchestrator`), so on the orchestrator's machine nothing needs configuring.
 */
import { z } from "zod";
import type { Env } from "./cli_args.ts";

/** The variable that sets the token, for the orchestrator and its clients alike. */
export const API_TOKEN_ENV = "SURGE_API_TOKEN";

/** The orchestrator's data dir when neither `--data-dir` nor `SURGE_DATA_DIR` says otherwise. */
export const DEFAULT_DATA_DIR = ".data/orchestrator";

/** Where the generated token is kept in a data dir. */
export function tokenFilePath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}/api_token`;
}

/**
 * What is wrong with a token, or undefined when it is usable: RFC 6750's `b64token` alphabet (so
 * it fits an `Authorization: Bearer` header and a cookie unchanged), at least 16 characters, so
 * a chosen one is not guessable by trying.
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length < 16) return "must be at least 16 characters";
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(token)) {
    return "must be letters, digits and . _ ~ + / - only (then any =)";
  }
  return undefined;
}

/** A token as text, checked by {@link tokenProblem}; a problem never repeats the secret. */
export const apiTokenText = z.string().superRefine((token, ctx) => {
  const problem = tokenProblem(token);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: undefined });
});

/** A fresh token: 32 bytes from the system's CSPRNG, as 64 hex digits. */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The token in the file at `path` (a trailing newline is allowed); throws naming the file. */
export async function readTokenFile(path: string): Promise<string> {
  const token = (await Deno.readTextFile(path)).trim();
  const problem = tokenProblem(token);
  if (problem) throw new Error(`The API token in ${path} ${problem}`);
  return token;
}

/** The orchestrator's token from its data dir, and whether this start created the file. */
export interface TokenFile {
  token: string;
  path: string;
  created: boolean;
  /** The file's permission bits let others than its owner read it (an existing file only). */
  readableByOthers: boolean;
}

/**
 * The token in `dataDir`'s token file, created first with a fresh token (mode 0600) when there
 * is none. The token is written to a file of its own and then hard-linked to its name: the link
 * fails if the name exists, so two processes starting at once on one data dir cannot each write
 * a different token, and no reader ever sees a file that is created but not yet written.
 */
export async function loadOrCreateTokenFile(dataDir: string): Promise<TokenFile> {
  const path = tokenFilePath(dataDir);
  const fresh = generateToken();
  const draft = `${path}.${crypto.randomUUID()}.new`;
  try {
    await Deno.writeTextFile(draft, `${fresh}\n`, { createNew: true, mode: 0o600 });
    await Deno.link(draft, path);
    return { token: fresh, path, created: true, readableByOthers: false };
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) {
      throw new Error(`Cannot create the API token file ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } finally {
    await Deno.remove(draft).catch(() => {});
  }
  const mode = (await Deno.stat(path)).mode;
  return {
    token: await readTokenFile(path),
    path,
    created: false,
    readableByOthers: mode !== null && (mode & 0o077) !== 0,
  };
}

/** The data dir a client on the orchestrator's machine reads: `SURGE_DATA_DIR`, else the default. */
export function clientDataDir(env: Env): string {
  return env.SURGE_DATA_DIR?.trim() || DEFAULT_DATA_DIR;
}

/**
 * A client's token: `SURGE_API_TOKEN`, else the token file in `dataDir` (default:
 * {@link clientDataDir}), else undefined: the orchestrator then answers 401 and says what it
 * wants. A file that exists but cannot be read is an error.
 */
export async function findClientToken(
  env: Env,
  dataDir = clientDataDir(env),
): Promise<string | undefined> {
  const fromEnv = env[API_TOKEN_ENV]?.trim();
  if (fromEnv) return fromEnv;
  try {
    return await readTokenFile(tokenFilePath(dataDir));
  } catch (err) {
    // No file, or one this process may not read (a task's grant covers .data only): no token
    // found, and a refused request then says where the client looked.
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotCapable) {
      return undefined;
    }
    throw err;
  }
}
