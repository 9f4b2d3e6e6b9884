import assert from "node:assert/strict";
import { parseProcStat } from "../../bench/proc_cpu.ts";

/** A /proc/<pid>/stat line with this command name, utime 1234 and stime 56. */
const line = (comm: string) =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 56 0 0 20 0 9 0 100 0 0`;

Deno.test("parseProcStat adds utime and stime, whatever the command name holds", () => {
  const table: [string, string][] = [
    ["a plain name", "deno"],
    ["spaces", "deno run x"],
    ["parentheses", "a) S 1 2 (b"],
    ["empty", ""],
  ];
  for (const [name, comm] of table) assert.equal(parseProcStat(line(comm)), 1290, name);
});

Deno.test("parseProcStat refuses what is not a stat line", () => {
  for (const bad of ["", "4242 deno S 1", "4242 (deno) S 1 2 3"]) {
    assert.throws(() => parseProcStat(bad), RangeError, JSON.stringify(bad));
  }
});
