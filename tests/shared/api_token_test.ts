import assert from "node:assert/strict";
import {
  findClientToken,
  generateToken,
  loadOrCreateTokenFile,
  tokenFilePath,
  tokenProblem,
} from "../../shared/api_token.ts";

Deno.test("generateToken(): 256 random bits as 64 hex digits, a usable token", () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, b);
  assert.equal(tokenProblem(a), undefined);
});

Deno.test("tokenProblem(): b64token characters, at least 16 of them", () => {
  const table: [string, string | undefined][] = [
    ["abcdefghijklmnop", undefined],
    ["A-Z_a.z~0+9/abcd==", undefined],
    ["abcdefghijklmno", "must be at least 16 characters"],
    ["abcdefgh ijklmnop", "must be letters, digits and . _ ~ + / - only (then any =)"],
    ["abcdefghijklmnop;x", "must be letters, digits and . _ ~ + / - only (then any =)"],
    ["abcd=efghijklmnop", "must be letters, digits and . _ ~ + / - only (then any =)"],
  ];
  for (const [token, want] of table) assert.equal(tokenProblem(token), want, token);
});

Deno.test("loadOrCreateTokenFile(): created once with mode 0600, then reused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-token-" });
  try {
    const first = await loadOrCreateTokenFile(dir);
    assert.equal(first.created, true);
    assert.equal(first.path, `${dir}/api_token`);
    assert.equal((await Deno.stat(first.path)).mode! & 0o777, 0o600);
    assert.equal(await Deno.readTextFile(first.path), `${first.token}\n`);
    const again = await loadOrCreateTokenFile(dir);
    assert.deepEqual(again, { ...first, created: false, readableByOthers: false });
    await Deno.chmod(first.path, 0o644);
    assert.equal((await loadOrCreateTokenFile(dir)).readableByOthers, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOrCreateTokenFile(): two starts at once on one data dir agree on the token", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-token-" });
  try {
    const both = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateTokenFile(dir)));
    assert.equal(new Set(both.map((f) => f.token)).size, 1);
    assert.equal(both.filter((f) => f.created).length, 1);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["api_token"],
      "no drafts left",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOrCreateTokenFile(): a file that holds no usable token is an error naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-token-" });
  try {
    await Deno.writeTextFile(tokenFilePath(dir), "too short\n");
    await assert.rejects(loadOrCreateTokenFile(dir), {
      message: `The API token in ${dir}/api_token must be at least 16 characters`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findClientToken(): SURGE_API_TOKEN, else the data dir's file, else none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-token-" });
  try {
    assert.equal(await findClientToken({ SURGE_DATA_DIR: dir }), undefined);
    const { token } = await loadOrCreateTokenFile(dir);
    assert.equal(await findClientToken({ SURGE_DATA_DIR: dir }), token);
    assert.equal(await findClientToken({}, dir), token);
    assert.equal(await findClientToken({ SURGE_DATA_DIR: "/nowhere" }, dir), token);
    assert.equal(
      await findClientToken({ SURGE_API_TOKEN: " from-the-env-0123456789 ", SURGE_DATA_DIR: dir }),
      "from-the-env-0123456789",
    );
    // Blank counts as unset.
    assert.equal(await findClientToken({ SURGE_API_TOKEN: "", SURGE_DATA_DIR: dir }), token);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
