/**
 * `img compare [-f fmt] [-F fmt] [-s] [-q] file1 file2`: exit 0 when the
 * images read the same, 1 when they differ, 2 on error. Without `-s` a size
 * difference is fine when the larger image's extra part reads as zeroes.
 *
 * Strict mode (`-s`) also requires equal sizes and equal block status
 * (present, data, zero, host offset valid), like qemu's flag comparison.
 */
import { chainBlockStatus, type DiskImage, isZero } from "@backplane/disk";
import { openDiskFile } from "@backplane/host-node";
import { Options, parseArgs, UsageError } from "./args.js";
import { firstDifference, type Io, withImage } from "./common.js";

const CHUNK = 1 << 20;
/** Block status is asked for this much at a time. */
const WINDOW = 64 << 20;
const SECTOR = 512;

export async function compare(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":hf:F:T:pqsU",
      long: {
        help: { key: "h", value: false },
        object: { key: "object", value: true },
        "image-opts": { key: "image-opts", value: false },
        "force-share": { key: "U", value: false },
      },
    }),
  );
  if (opts.operands.length !== 2) throw new UsageError("Expecting two image file names");
  const quiet = opts.has("q");
  const say = (text: string) => quiet || io.out(text);
  const a = await openDiskFile(opts.operands[0], { format: opts.get("f"), readOnly: true });
  return withImage(a, async () => {
    const b = await openDiskFile(opts.operands[1], { format: opts.get("F"), readOnly: true });
    return withImage(b, async () => {
      const strict = opts.has("s");
      if (a.size !== b.size) {
        if (strict) {
          say("Strict mode: Image size mismatch!\n");
          return 1;
        }
        say("Warning: Image size mismatch!\n");
      }
      const common = Math.min(a.size, b.size);
      const mismatch = await firstMismatch(a, b, common, strict);
      if (mismatch !== undefined) {
        say(
          mismatch.status
            ? `Strict mode: Offset ${mismatch.offset} block status mismatch!\n`
            : `Content mismatch at offset ${mismatch.offset}!\n`,
        );
        return 1;
      }
      const larger = a.size > b.size ? a : b;
      const extra = await firstNonZero(larger, common, larger.size);
      if (extra !== undefined) {
        say(`Content mismatch at offset ${extra}!\n`);
        return 1;
      }
      say("Images are identical.\n");
      return 0;
    });
  });
}

async function firstMismatch(
  a: DiskImage,
  b: DiskImage,
  end: number,
  strict: boolean,
): Promise<{ offset: number; status: boolean } | undefined> {
  const bufA = new Uint8Array(CHUNK);
  const bufB = new Uint8Array(CHUNK);
  for (let win = 0; win < end; win += WINDOW) {
    const span = Math.min(WINDOW, end - win);
    const [ea, eb] = await Promise.all([chainBlockStatus(a, win, span), chainBlockStatus(b, win, span)]);
    for (let pos = win; pos < win + span; pos += CHUNK) {
      const n = Math.min(CHUNK, win + span - pos);
      const inChunk = (e: Status) => e.start < pos + n && pos < e.start + e.length;
      const [ca, cb] = [ea.filter(inChunk), eb.filter(inChunk)];
      if (strict) {
        const offset = statusMismatch(ca, cb, pos, pos + n);
        if (offset !== undefined) return { offset, status: true };
      }
      if (!ca.some((e) => e.data) && !cb.some((e) => e.data)) continue;
      await Promise.all([a.read(pos, bufA.subarray(0, n)), b.read(pos, bufB.subarray(0, n))]);
      const d = firstDifference(bufA.subarray(0, n), bufB.subarray(0, n));
      if (d >= 0) return { offset: pos + Math.floor(d / SECTOR) * SECTOR, status: false };
    }
  }
  return undefined;
}

type Status = {
  start: number;
  length: number;
  present?: boolean;
  data: boolean;
  zero: boolean;
  offset?: number;
};

/** First offset in `[from, to)` where the two maps disagree on presence, data, zero or having a host offset. */
function statusMismatch(ea: Status[], eb: Status[], from: number, to: number): number | undefined {
  const points = [...new Set([from, ...[...ea, ...eb].map((e) => e.start)])]
    .filter((p) => p >= from && p < to)
    .sort((x, y) => x - y);
  const at = (list: Status[], p: number) => {
    const e = list.find((x) => x.start <= p && p < x.start + x.length);
    return e ? `${e.present ?? e.data}/${e.data}/${e.zero}/${e.offset !== undefined}` : "";
  };
  return points.find((p) => at(ea, p) !== at(eb, p));
}

async function firstNonZero(image: DiskImage, from: number, to: number): Promise<number | undefined> {
  const buf = new Uint8Array(CHUNK);
  for (const e of await chainBlockStatus(image, from, to - from)) {
    if (!e.data) continue;
    for (let pos = e.start; pos < e.start + e.length; pos += CHUNK) {
      const part = buf.subarray(0, Math.min(CHUNK, e.start + e.length - pos));
      await image.read(pos, part);
      if (!isZero(part)) {
        const i = part.findIndex((v) => v !== 0);
        return pos + Math.floor(i / SECTOR) * SECTOR;
      }
    }
  }
  return undefined;
}
