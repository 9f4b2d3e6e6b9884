/**
 * The base64 form of a latency histogram: HdrHistogram's V2 encoding (a 40-byte header, then the
 * counts as ZigZag LEB128 varints where a negative number is a run of empty buckets), the form
 * every HdrHistogram implementation reads. surge writes it uncompressed: deflate shrank a busy
 * driver's histogram by only a third (4.3 KB to 3.0 KB) and inflating it was most of what a
 * metrics message cost the orchestrator to decode. The compressed variant (deflated behind an
 * 8-byte header, as hdr-histogram-js's `encodeIntoCompressedBase64` writes it) is still read.
 * hdr-histogram-js's own codec makes several passes and copies per histogram; this one reads a
 * histogram of surge's layout straight into its non-empty buckets. Anything else that decodes
 * as V2 (another precision, say) still goes through the library and is rebuilt at ours.
 */
import { inflateSync } from "node:zlib";
import * as hdr from "hdr-histogram-js";
import {
  buildHistogram,
  HIGHEST_US,
  type Histogram,
  internals,
  LENGTH,
  LOWEST_US,
  SIGNIFICANT_DIGITS,
} from "./histogram_layout.ts";
import {
  denseOf,
  putVarint,
  scratchCount,
  scratchIndex,
  sparseCopy,
  type SparseHistogram,
  sparseOf,
} from "./sparse_histogram.ts";

/**
 * The largest encoded histogram accepted: a histogram with every one of its ~47,000 buckets
 * populated with large counts compresses to well under half of this.
 */
export const MAX_ENCODED_HISTOGRAM_CHARS = 1_000_000;
/** The most an encoded histogram may inflate to (its varint counts: ≤ 9 bytes per bucket). */
export const MAX_INFLATED_BYTES = 1 << 20;

const COMPRESSED_COOKIE = 0x1c849304 | 0x10;
const ENCODING_COOKIE = 0x1c849303 | 0x10;
const HEADER_BYTES = 40;
const TWO_POW_32 = 2 ** 32;

/** Base64 both ways (V8 has them natively; the type declarations do not yet). */
const setFromBase64 = (into: Uint8Array, text: string) =>
  (into as unknown as { setFromBase64(text: string): { read: number; written: number } })
    .setFromBase64(text);
const toBase64 = (bytes: Uint8Array) => (bytes as unknown as { toBase64(): string }).toBase64();

/** The library's decoder of an inflated V2 payload, for histograms of another layout. */
const libraryDecode = (hdr.JsHistogram as unknown as {
  decode(
    data: Uint8Array,
    bitBucketSize: number,
    minBarForHighestTrackableValue: number,
  ): Histogram;
}).decode;

/**
 * Where {@link payloadOf} decodes the base64 of the longest histogram accepted: read at once by
 * the one decode in progress, so it needs no allocation of its own. Made on the first decode
 * (the drivers' load workers only encode).
 */
let bytesScratch: Uint8Array | undefined;

/**
 * The V2 payload (header and counts) of an encoded histogram, inflated when it is compressed; an
 * uncompressed one is a view of the scratch bytes, valid until the next call.
 * Refuses a text that is too large, or a compressed payload that would inflate past
 * {@link MAX_INFLATED_BYTES} (a zip bomb), before anything else reads it.
 */
function payloadOf(encoded: string): Uint8Array {
  if (encoded.length > MAX_ENCODED_HISTOGRAM_CHARS) {
    throw new RangeError(
      `Encoded histogram of ${encoded.length} characters exceeds ${MAX_ENCODED_HISTOGRAM_CHARS}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytesScratch ??= new Uint8Array(Math.ceil(MAX_ENCODED_HISTOGRAM_CHARS / 4) * 3);
    bytes = bytesScratch.subarray(0, setFromBase64(bytesScratch, encoded).written);
  } catch (err) {
    throw new RangeError("Invalid encoded histogram: not base64", { cause: err });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cookie = bytes.length < 8 ? 0 : view.getInt32(0) & ~0xf0;
  if (cookie === (ENCODING_COOKIE & ~0xf0)) return bytes;
  if (cookie !== (COMPRESSED_COOKIE & ~0xf0)) {
    throw new RangeError("Invalid encoded histogram: not a V2 histogram");
  }
  const length = view.getUint32(4);
  try {
    return inflateSync(bytes.subarray(8, 8 + length), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (err) {
    throw new RangeError(
      `Invalid encoded histogram: its payload does not inflate within ${MAX_INFLATED_BYTES} bytes`,
      { cause: err },
    );
  }
}

/**
 * Reads V2 counts (ZigZag LEB128, negative = a run of empty buckets) from `payload` as the
 * non-empty buckets; throws RangeError when they do not fit the layout.
 */
function readCounts(payload: Uint8Array, from: number, to: number): SparseHistogram {
  const index = scratchIndex;
  const count = scratchCount;
  let n = 0;
  let bucket = 0;
  let at = from;
  while (at < to) {
    let byte = payload[at++]!;
    let value = byte;
    if (byte >= 0x80) {
      // Up to 4 bytes (28 bits) in integer arithmetic, the rare longer ones in floating point:
      // a count may have up to 63 bits. Bytes past the end read as undefined, hence 0.
      value = byte & 0x7f;
      byte = payload[at++]!;
      value |= (byte & 0x7f) << 7;
      if (byte >= 0x80) {
        byte = payload[at++]!;
        value |= (byte & 0x7f) << 14;
        if (byte >= 0x80) {
          byte = payload[at++]!;
          value |= (byte & 0x7f) << 21;
          for (let scale = 2 ** 28, bytes = 4; byte >= 0x80; bytes++, scale *= 128) {
            if (bytes === 9) throw new RangeError("Invalid encoded histogram: a count is too long");
            byte = payload[at++]!;
            value += (byte & 0x7f) * scale;
          }
        }
      }
      if (at > to) throw new RangeError("Invalid encoded histogram: a count is cut");
    }
    if (value % 2 === 1) {
      bucket += (value + 1) / 2;
      continue;
    }
    if (bucket >= LENGTH) {
      throw new RangeError("Invalid encoded histogram: counts beyond its range");
    }
    if (value > 0) {
      index[n] = bucket;
      count[n++] = value / 2;
    }
    bucket++;
  }
  return sparseCopy(index, count, n);
}

/**
 * The last histograms decoded, by their encoded text: a metrics message's histograms are decoded
 * when the message is validated (messages.ts) and again by whoever uses them, and a
 * SparseHistogram is never changed, so the second decode is a lookup.
 */
const recent = new Map<string, SparseHistogram>();
const RECENT_MAX = 8;

/** Decodes {@link encodeHistogram}'s output to its non-empty buckets; RangeError on garbage. */
export function decodeSparse(encoded: string): SparseHistogram {
  const known = recent.get(encoded);
  if (known) return known;
  const decoded = decodeUncached(encoded);
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(encoded, decoded);
  return decoded;
}

function decodeUncached(encoded: string): SparseHistogram {
  const payload = payloadOf(encoded);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (payload.length < HEADER_BYTES || view.getInt32(0) !== ENCODING_COOKIE) {
    throw new RangeError("Invalid encoded histogram: not a V2 histogram");
  }
  const length = view.getUint32(4);
  const digits = view.getInt32(12);
  const lowest = view.getUint32(16) * TWO_POW_32 + view.getUint32(20);
  const highest = view.getUint32(24) * TWO_POW_32 + view.getUint32(28);
  if (HEADER_BYTES + length > payload.length) {
    throw new RangeError("Invalid encoded histogram: its counts are cut");
  }
  if (digits === SIGNIFICANT_DIGITS && lowest === LOWEST_US && highest === HIGHEST_US) {
    return readCounts(payload, HEADER_BYTES, HEADER_BYTES + length);
  }
  // Another layout: the library reads it, and it is rebuilt at ours so that it merges exactly.
  const result = buildHistogram();
  try {
    result.add(libraryDecode(payload, 64, 0));
  } catch (err) {
    throw new RangeError("Invalid encoded histogram", { cause: err });
  }
  return sparseOf(result);
}

/** Decodes {@link encodeHistogram}'s output; throws RangeError on anything else. */
export function decodeHistogram(encoded: string): Histogram {
  return denseOf(decodeSparse(encoded));
}

/** Appends `signed` as a ZigZag LEB128 varint; returns the next free position. */
function writeVarint(out: Uint8Array, at: number, signed: number): number {
  return putVarint(out, at, signed >= 0 ? signed * 2 : -signed * 2 - 1);
}

/** The base64 V2 form (uncompressed), for Kafka messages and worker snapshots. */
export function encodeHistogram(histogram: Histogram): string {
  const h = internals(histogram);
  const counts = h._counts;
  // Buckets up to the one holding the max, as the library writes them.
  const limit = Math.min(LENGTH, h.countsArrayIndex(h.maxValue) + 1);
  const raw = new Uint8Array(HEADER_BYTES + 9 * limit);
  const view = new DataView(raw.buffer);
  let at = HEADER_BYTES;
  for (let i = 0; i < limit;) {
    const count = counts[i++]!;
    if (count < 0) throw new RangeError(`Cannot encode a negative count (${count})`);
    if (count !== 0) {
      at = writeVarint(raw, at, count);
      continue;
    }
    let zeros = 1;
    while (i < limit && counts[i] === 0) {
      zeros++;
      i++;
    }
    at = writeVarint(raw, at, zeros > 1 ? -zeros : 0);
  }
  view.setInt32(0, ENCODING_COOKIE);
  view.setInt32(4, at - HEADER_BYTES);
  view.setInt32(8, 1);
  view.setInt32(12, SIGNIFICANT_DIGITS);
  view.setUint32(16, Math.floor(LOWEST_US / TWO_POW_32));
  view.setUint32(20, LOWEST_US % TWO_POW_32);
  view.setUint32(24, Math.floor(HIGHEST_US / TWO_POW_32));
  view.setUint32(28, HIGHEST_US % TWO_POW_32);
  view.setUint32(32, 0);
  view.setUint32(36, 1);
  return toBase64(raw.subarray(0, at));
}
