import assert from "node:assert/strict";
import { sleep } from "../../shared/async.ts";
import { StallWatchdog } from "./stall_watchdog.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("StallWatchdog names the test that went silent, once", async () => {
  const stalls: string[] = [];
  const dog = new StallWatchdog(150, (test) => stalls.push(test), 10);
  try {
    dog.saw(enc("running 2 tests from ./x_test.ts\nfirst test ... \x1b[32mok\x1b[0m (1ms)\n"));
    dog.saw(enc("second "));
    dog.saw(enc("test ..."));
    await sleep(400);
    assert.deepEqual(stalls, ["second test"]);
    assert.equal(dog.fired, true);
  } finally {
    dog.close();
  }
});

Deno.test("StallWatchdog stays quiet while output keeps coming", async () => {
  const stalls: string[] = [];
  const dog = new StallWatchdog(200, (test) => stalls.push(test), 10);
  try {
    for (let i = 0; i < 6; i++) {
      dog.saw(enc(`step ${i} ... ok\n`));
      await sleep(60);
    }
    assert.deepEqual(stalls, []);
    assert.equal(dog.fired, false);
  } finally {
    dog.close();
  }
});
