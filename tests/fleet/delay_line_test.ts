/** The lab wire's delay and loss (tests/support/delay_line.ts), with a scripted random source. */
import assert from "node:assert/strict";
import { CLEAR, DelayLine, type Impairment } from "../support/delay_line.ts";

/** A random source that returns `values` in turn. */
const scripted = (...values: number[]) => () => values.shift() ?? 0.999;

Deno.test("DelayLine: loss drops exactly the frames whose draw is below it", () => {
  const rows: { name: string; loss: number; draws: number[]; kept: string[] }[] = [
    {
      name: "no loss keeps every frame, drawing nothing",
      loss: 0,
      draws: [0],
      kept: ["a", "b", "c"],
    },
    { name: "1 % drops a draw of 0.005", loss: 0.01, draws: [0.5, 0.005, 0.01], kept: ["a", "c"] },
    {
      name: "a draw equal to the loss is kept",
      loss: 0.25,
      draws: [0.25, 0.2499, 0.9],
      kept: ["a", "c"],
    },
    { name: "100 % drops everything", loss: 1, draws: [0.999, 0, 0.5], kept: [] },
  ];
  for (const row of rows) {
    const line = new DelayLine<string>(scripted(...row.draws));
    for (const frame of ["a", "b", "c"]) line.push(frame, 0, { delayMs: 0, loss: row.loss });
    assert.deepEqual(line.take(0), row.kept, row.name);
    assert.equal(line.offered, 3, row.name);
    assert.equal(line.dropped, 3 - row.kept.length, row.name);
  }
});

Deno.test("DelayLine: a frame leaves after the delay, in order, even when the delay is lowered", () => {
  const line = new DelayLine<string>(scripted());
  const fifty: Impairment = { delayMs: 50, loss: 0 };
  assert.equal(line.nextIn(0), undefined);
  line.push("a", 0, fifty);
  line.push("b", 10, fifty);
  assert.equal(line.nextIn(0), 50);
  assert.deepEqual(line.take(49.9), []);
  assert.deepEqual(line.take(50), ["a"]);
  assert.equal(line.nextIn(55), 5);
  // Cleared while b waits: c is due at once but leaves behind b, never before it.
  line.push("c", 55, CLEAR);
  assert.deepEqual(line.take(55), []);
  assert.deepEqual(line.take(60), ["b", "c"]);
  assert.equal(line.nextIn(60), undefined);
  assert.equal(line.nextIn(100), undefined);
});
