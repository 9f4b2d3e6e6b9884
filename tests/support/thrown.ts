/**
 * The error a call throws, to assert on its class and fields (node:assert's `throws` returns
 * nothing). A call that returns fails the test.
 */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to throw, but it returned");
}
