import assert from "node:assert/strict";
import {
  type SaturationInput,
  saturationWarnings,
  scheduledRate,
} from "../../shared/saturation.ts";

const base: SaturationInput = {
  rate: 1000,
  connections: 10,
  queued: 0,
  dropped: 0,
  requests: 3000,
  lagP99Ms: 0.5,
  serviceMeanMs: 1,
  serviceP99Ms: 3,
};

Deno.test("saturationWarnings() names the cause and the fix, and stays quiet otherwise", () => {
  const table: [string, Partial<SaturationInput>, RegExp | null][] = [
    ["on schedule", {}, null],
    ["unpaced", { rate: null, dropped: 5 }, null],
    ["one hiccup in 3,000 is not a pattern", { queued: 1 }, null],
    [
      "too few connections for the rate (Little's law)",
      { queued: 300, dropped: 2700, requests: 300, serviceMeanMs: 100 },
      /^10 connections cannot carry 1,000 req\/s at 100 ms per response: 300 requests waited .* 2700 were dropped; use ≥ 120 connections or more drivers$/,
    ],
    [
      "enough on average, busy in bursts",
      { queued: 90, serviceMeanMs: 2, serviceP99Ms: 40 },
      /^all 10 connections were busy at times \(service time p99 40 ms\): 90 requests waited .*; use ≥ 20 connections/,
    ],
    [
      "any dropped slot warns",
      { dropped: 1 },
      /0 requests waited for a free connection and 1 were dropped/,
    ],
    [
      "a late generator with connections free",
      { lagP99Ms: 25 },
      /^the generator fell behind its timetable with connections free \(send lag p99 25 ms > 10 ms\)/,
    ],
  ];
  for (const [name, over, want] of table) {
    const warnings = saturationWarnings({ ...base, ...over });
    if (want === null) assert.deepEqual(warnings, [], name);
    else {
      assert.equal(warnings.length, 1, name);
      assert.match(warnings[0]!, want, name);
    }
  }
});

Deno.test("scheduledRate() is the rate a test's timetable asks of each driver", () => {
  const table: [Parameters<typeof scheduledRate>[0], number | null][] = [
    [{ test_type: "TSUNAMI", test_message_delay: 10 }, 100],
    [{ test_type: "TSUNAMI", test_message_delay: 0.5 }, 2000],
    [{ test_type: "AVALANCHE", test_message_delay: 0, target_throughput: 750 }, 750],
    [{ test_type: "AVALANCHE", test_message_delay: 0, target_throughput: null }, null],
    [{ test_type: "AVALANCHE", test_message_delay: 0 }, null],
  ];
  for (const [config, want] of table) assert.equal(scheduledRate(config), want);
});
