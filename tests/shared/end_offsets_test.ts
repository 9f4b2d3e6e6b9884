/** endOffsets(): a subscription's start on topics whose leaders are still loading them. */
import assert from "node:assert/strict";
import { endOffsets, type EndOffsetsRetry } from "../../shared/end_offsets.ts";

/** The error a partition's broker answers while it is not (yet) its leader, as kafkajs throws it. */
const notLeader = () =>
  Object.assign(new Error("This server is not the leader for that topic-partition"), {
    type: "NOT_LEADER_FOR_PARTITION",
    retriable: true,
  });

/** An admin whose `fetchTopicOffsets` throws the given errors in turn, then answers. */
function admin(errors: Error[]) {
  const calls: string[] = [];
  return {
    calls,
    fetchTopicOffsets: (topic: string) => {
      calls.push(topic);
      const err = errors.shift();
      if (err) return Promise.reject(err);
      return Promise.resolve([{ partition: 0, offset: "7", high: "7", low: "0" }]);
    },
  };
}

const waits: number[] = [];
const retry: EndOffsetsRetry = {
  initialMs: 200,
  maxMs: 2_000,
  retries: 3,
  sleep: (ms) => Promise.resolve(void waits.push(ms)),
};

Deno.test("endOffsets() tries a topic whose leader is not ready again, backing off", async () => {
  waits.length = 0;
  const fake = admin([notLeader(), notLeader()]);
  const ends = await endOffsets(fake, ["a", "b"], retry);
  assert.deepEqual([...ends], [["a/0", 7n], ["b/0", 7n]]);
  assert.deepEqual(fake.calls, ["a", "a", "a", "b"]);
  assert.deepEqual(waits, [200, 400]);
});

Deno.test("endOffsets() gives up after its retries, with the broker's error", async () => {
  const fake = admin([notLeader(), notLeader(), notLeader(), notLeader()]);
  await assert.rejects(endOffsets(fake, ["a"], retry), /not the leader/);
  assert.equal(fake.calls.length, 4);
});

Deno.test("endOffsets() does not retry an error that trying again cannot fix", async () => {
  const fake = admin([
    Object.assign(new Error("Topic authorization failed"), { retriable: false }),
  ]);
  await assert.rejects(endOffsets(fake, ["a"], retry), /authorization/);
  assert.equal(fake.calls.length, 1);
});
