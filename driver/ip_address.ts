/**
 * IP addresses and networks as numbers, for the target policy (target_policy.ts): parsing the
 * textual forms strictly, and the IPv6 forms that stand for an IPv4 address (IPv4-mapped
 * `::ffff:a.b.c.d`, NAT64's `64:ff9b::a.b.c.d`) turned into that IPv4 address, so a rule about
 * 169.254.169.254 also holds for `[::ffff:a9fe:a9fe]`.
 */

/** An address of one family, as a number (32 or 128 bits). */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

/** A network: `prefix` leading bits of `base` (host bits zero). */
export interface IpNetwork extends IpAddress {
  prefix: number;
}

const bits = (family: 4 | 6) => family === 4 ? 32 : 128;

/** A dotted quad, each part 0-255 without leading zeros (which some read as octal). */
function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

/** RFC 4291 text: eight groups, one `::`, an optional dotted quad at the end; no zone. */
function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === "") return [];
    const groups: number[] = [];
    const parts = half.split(":");
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) groups.push(parseInt(part, 16));
      else return undefined;
    }
    return groups;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const group of [...head, ...new Array(missing).fill(0), ...tail]) {
    value = (value << 16n) | BigInt(group);
  }
  return value;
}

/** IPv6 prefixes whose last 32 bits are an IPv4 address the packet goes to. */
const EMBEDDING_IPV4: readonly bigint[] = [
  0xffff_0000_0000n, // ::ffff:0:0/96, IPv4-mapped
  0x0064_ff9b_0000_0000_0000_0000_0000_0000n, // 64:ff9b::/96, NAT64's well-known prefix
];

/** The IPv4 address an IPv6 one stands for, if it stands for one. */
function unwrap(address: IpAddress): IpAddress {
  if (address.family === 6 && EMBEDDING_IPV4.includes(address.value >> 32n << 32n)) {
    return { family: 4, value: address.value & 0xffff_ffffn };
  }
  return address;
}

/**
 * An address in text (`10.0.0.1`, `::1`, `[::1]`), IPv4 forms of IPv6 unwrapped; a zone
 * (`fe80::1%eth0`) is dropped. Undefined for anything else.
 */
export function parseIp(text: string): IpAddress | undefined {
  const bare = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = parseIpv4(bare);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = bare.includes(":") ? parseIpv6(bare) : undefined;
  return v6 === undefined ? undefined : unwrap({ family: 6, value: v6 });
}

/** `address[/prefix]` → a network, or a problem; a zone or host bits set are problems. */
export function parseNetwork(text: string): IpNetwork | string {
  const [address, prefixText, ...extra] = text.split("/");
  if (extra.length > 0 || address!.includes("%")) return "is not an address or a network";
  const raw = parseIpv4(address!) !== undefined
    ? { family: 4 as const, value: parseIpv4(address!)! }
    : address!.includes(":") && parseIpv6(address!) !== undefined
    ? { family: 6 as const, value: parseIpv6(address!)! }
    : undefined;
  if (raw === undefined) return "is not an address or a network";
  const width = bits(raw.family);
  if (prefixText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) {
    return `has a bad prefix length "/${prefixText}"`;
  }
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) return `has a prefix length over ${width}`;
  const network = { ...raw, prefix };
  if ((raw.value & ~mask(network)) !== 0n) {
    const base = format({ ...raw, value: raw.value & mask(network) });
    return `has host bits set (did you mean ${base}/${prefix}?)`;
  }
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared unwrapped.
  const unwrapped = unwrap(raw);
  if (unwrapped.family === 4 && raw.family === 6 && prefix >= 96) {
    return { ...unwrapped, prefix: prefix - 96 };
  }
  return network;
}

function mask(network: IpNetwork): bigint {
  const width = BigInt(bits(network.family));
  const all = (1n << width) - 1n;
  return all ^ ((1n << (width - BigInt(network.prefix))) - 1n);
}

/** Whether `address` lies in `network`. */
export function contains(network: IpNetwork, address: IpAddress): boolean {
  return network.family === address.family && (address.value & mask(network)) === network.value;
}

/** Whether every address of `inner` lies in `outer`. */
export function within(inner: IpNetwork, outer: IpNetwork): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner);
}

/** An address in canonical text (RFC 5952: lowercase, the longest run of zero groups as `::`). */
export function format(address: IpAddress): string {
  if (address.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((address.value >> s) & 0xffn)).join(".");
  }
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((address.value >> s) & 0xffffn));
  let best = { at: -1, length: 1 }; // a single zero group stays "0"
  for (let at = 0; at < 8; at++) {
    let length = 0;
    while (at + length < 8 && groups[at + length] === 0) length++;
    if (length > best.length) best = { at, length };
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (best.at < 0) return hex(groups);
  return `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.length))}`;
}
