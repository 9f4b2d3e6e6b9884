/**
 * A process: a userspace wire that delays and drops frames, for the fleet lab's slow links on
 * kernels built without `sch_netem` (`tc qdisc … netem` answers "Specified qdisc kind is
 * unknown"). `deno run --allow-ffi --allow-read=<control> tap_wire.ts <in-tap> <out-tap>
 * <control>` creates two TAP devices in its network namespace and copies every Ethernet frame
 * that arrives on the first to the second through a {@link DelayLine}. The lab moves the first
 * into a host's namespace and sends the host's egress there with `tc … mirred`, and feeds the
 * second into the switch port of the host's link, so only that direction is impaired, as `tc
 * qdisc add dev eth0 root netem` on the host would. On SIGHUP it reads the impairment from the
 * control file (`{"seq", "delayMs", "loss"}`) and prints `applied <seq> …` once in force.
 *
 * libc through FFI, since Deno has no ioctl: open /dev/net/tun, TUNSETIFF with IFF_TAP |
 * IFF_NO_PI, then read and write whole frames; each blocking read runs on Deno's blocking
 * thread pool (`nonblocking: true`). Closing the process closes the devices, which the kernel
 * then deletes.
 */
import { CLEAR, DelayLine, type Impairment } from "./delay_line.ts";

const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const O_RDWR = 2;
const MAX_FRAME = 65_536;

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  __errno_location: { parameters: [], result: "pointer" },
});

function errno(): number {
  const at = libc.symbols.__errno_location();
  return at === null ? -1 : new Deno.UnsafePointerView(at).getInt32();
}

/** A TAP device named `name` (≤ 15 bytes), as a file descriptor. */
function openTap(name: string): number {
  const fd = libc.symbols.open(new TextEncoder().encode("/dev/net/tun\0"), O_RDWR);
  if (fd < 0) throw new Error(`cannot open /dev/net/tun (errno ${errno()})`);
  // struct ifreq: char ifr_name[16], then short ifr_flags; 40 bytes in all.
  const ifreq = new Uint8Array(40);
  ifreq.set(new TextEncoder().encode(name));
  new DataView(ifreq.buffer).setInt16(16, IFF_TAP | IFF_NO_PI, true);
  if (libc.symbols.ioctl(fd, BigInt(TUNSETIFF), ifreq) < 0) {
    throw new Error(`cannot create TAP device ${name} (errno ${errno()})`);
  }
  return fd;
}

function write(fd: number, frame: Uint8Array): void {
  // A frame the kernel refuses (the device is down) is lost, as on a wire.
  libc.symbols.write(fd, frame, BigInt(frame.length));
}

/** Copies frames from `from` to `to` for ever, through `line`. */
async function pump(from: number, to: number, line: DelayLine<Uint8Array>): Promise<void> {
  const buffer = new Uint8Array(MAX_FRAME);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    for (const frame of line.take(performance.now())) write(to, frame);
    const next = line.nextIn(performance.now());
    if (next !== undefined) timer = setTimeout(flush, next);
  };
  for (;;) {
    const n = Number(await libc.symbols.read(from, buffer, BigInt(buffer.length)));
    if (n < 0) throw new Error(`reading a frame failed (errno ${errno()})`);
    const frame = buffer.slice(0, n);
    if (line.push(frame, performance.now(), impairment) && timer === undefined) flush();
  }
}

let impairment: Impairment = CLEAR;
const [inTap, outTap, control] = Deno.args;
if (inTap === undefined || outTap === undefined || control === undefined) {
  console.error("usage: tap_wire.ts <in-tap> <out-tap> <control-file>");
  Deno.exit(2);
}
const from = openTap(inTap);
const to = openTap(outTap);
const line = new DelayLine<Uint8Array>();
// Not SIGUSR1: Deno opens its inspector on 127.0.0.1:9229 when it gets that one.
Deno.addSignalListener("SIGHUP", () => {
  const asked = JSON.parse(Deno.readTextFileSync(control));
  impairment = { delayMs: Number(asked.delayMs), loss: Number(asked.loss) };
  console.log(
    `applied ${asked.seq} delay_ms=${impairment.delayMs} loss=${impairment.loss} ` +
      `(so far ${line.offered} frames, ${line.dropped} dropped)`,
  );
});
console.log(`ready ${inTap} ${outTap}`);
await pump(from, to, line);
