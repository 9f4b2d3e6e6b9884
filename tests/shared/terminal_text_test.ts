import assert from "node:assert/strict";
import {
  escapeControl,
  stripControl,
  terminalJson,
  terminalSafe,
} from "../../shared/terminal_text.ts";

Deno.test("stripControl() removes escape sequences and control characters, keeps the text", () => {
  const table: [name: string, input: string, want: string][] = [
    ["plain text", "http://127.0.0.1:8080/ping", "http://127.0.0.1:8080/ping"],
    ["unicode text", "héllo — ✓", "héllo — ✓"],
    ["colour (CSI)", "\x1b[31mred\x1b[0m", "red"],
    ["clear screen", "a\x1b[2J\x1b[Hb", "ab"],
    ["private CSI", "a\x1b[?25lb", "ab"],
    ["window title (OSC, BEL)", "\x1b]0;pwned\x07x", "x"],
    ["hyperlink (OSC, ST)", "\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\", "click"],
    ["DCS string", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"],
    ["two-byte escape", "a\x1bcb", "ab"],
    ["lone ESC at the end", "a\x1b", "a"],
    ["8-bit CSI", "a\x9b31mb", "ab"],
    ["8-bit OSC", "a\x9d0;t\x9cb", "ab"],
    ["line breaks forge no line", "ok\nFAKE LINE\r\n", "ok FAKE LINE  "],
    ["tab", "a\tb", "a b"],
    ["backspace, bell, NUL, DEL", "a\b\x07\0\x7fb", "ab"],
    ["other C1", "a\x85\x80b", "ab"],
  ];
  for (const [name, input, want] of table) assert.equal(stripControl(input), want, name);
});

Deno.test("terminalSafe() strips every string in a value, keys included, and copies it", () => {
  const view = {
    test_id: "t1",
    n: 3,
    ok: true,
    none: null,
    warnings: ["\x1b[2Jboom"],
    drivers: { "one\x1b[1m": { error: "e\r\nrr" } },
  };
  const safe = terminalSafe(view);
  assert.deepEqual(safe, {
    test_id: "t1",
    n: 3,
    ok: true,
    none: null,
    warnings: ["boom"],
    drivers: { "one": { error: "e  rr" } },
  });
  assert.equal(view.warnings[0], "\x1b[2Jboom", "the input is left as it was");
});

Deno.test("escapeControl() and terminalJson() escape control characters losslessly", () => {
  assert.equal(escapeControl("a\x1b[31mb\x9bc\nd"), "a\\u001b[31mb\\u009bc\\u000ad");
  const value = { error: "x\x1b]0;t\x07\x9b2J\x7f", list: [1] };
  const json = terminalJson(value, 2);
  // deno-lint-ignore no-control-regex -- looking for control characters is the test
  assert.doesNotMatch(json, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, "no raw control but the layout's LF");
  assert.match(json, /\n {2}"error"/, "the layout's line breaks stay");
  assert.deepEqual(JSON.parse(json), value);
  assert.deepEqual(JSON.parse(terminalJson(value)), value);
});
