/** `img info`, `img map` and `img check`: read-only inspection. */
import { chainBlockStatus, chainImages } from "@backplane/disk";
import { openDiskFile } from "@backplane/host-node";
import { Options, outputFormat, parseArgs, UsageError } from "./args.js";
import {
  fullInfo,
  humanCheck,
  humanInfo,
  humanMap,
  type Io,
  json,
  jsonCheck,
  jsonMap,
  PROG,
  withImage,
} from "./common.js";
import { parseSize } from "./size.js";

const COMMON_LONG = {
  help: { key: "h", value: false },
  format: { key: "f", value: true },
  output: { key: "output", value: true },
  "force-share": { key: "U", value: false },
  "image-opts": { key: "image-opts", value: false },
  object: { key: "object", value: true },
};

/** Exit status of `check` when the format cannot be checked (qemu-img's value). */
const EXIT_CHECK_UNSUPPORTED = 63;

function oneImage(opts: Options): string {
  if (opts.operands.length !== 1) throw new UsageError("Expecting one image file name");
  return opts.operands[0];
}

export async function info(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":f:hU",
      long: { ...COMMON_LONG, "backing-chain": { key: "backing-chain", value: false } },
    }),
  );
  const file = oneImage(opts);
  const output = outputFormat(opts);
  const chain = opts.has("backing-chain");
  const image = await openDiskFile(file, { format: opts.get("f"), readOnly: true, noBacking: !chain });
  return withImage(image, async () => {
    const infos = [];
    for (const img of chain ? chainImages(image) : [image]) infos.push(await fullInfo(img));
    if (output === "json") io.out(json(chain ? infos : infos[0]));
    else io.out(infos.map(humanInfo).join("\n"));
    return 0;
  });
}

export async function map(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":f:hU",
      long: {
        ...COMMON_LONG,
        "start-offset": { key: "start-offset", value: true },
        "max-length": { key: "max-length", value: true },
      },
    }),
  );
  const file = oneImage(opts);
  const output = outputFormat(opts);
  const image = await openDiskFile(file, { format: opts.get("f"), readOnly: true });
  return withImage(image, async () => {
    const start = opts.has("start-offset") ? parseSize(opts.get("start-offset") ?? "") : 0;
    const max = opts.has("max-length") ? parseSize(opts.get("max-length") ?? "") : image.size;
    const length = Math.max(0, Math.min(image.size - start, max));
    const found = await chainBlockStatus(image, start, length);
    // qemu-img prints one empty extent for an empty range.
    const extents =
      found.length > 0 ? found : [{ start, length: 0, depth: 0, present: false, zero: false, data: false }];
    const files = chainImages(image).map((i) => i.source.name);
    io.out(output === "json" ? jsonMap(extents) : humanMap(extents, (d) => files[d] ?? ""));
    return 0;
  });
}

export async function check(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, { short: ":hf:r:T:qU", long: { ...COMMON_LONG, repair: { key: "r", value: true } } }),
  );
  const file = oneImage(opts);
  const output = outputFormat(opts);
  const repair = opts.get("r");
  if (repair !== undefined && repair !== "leaks" && repair !== "all") {
    throw new UsageError(`Unknown option value for -r (expecting 'leaks' or 'all'): ${repair}`);
  }
  const image = await openDiskFile(file, {
    format: opts.get("f"),
    readOnly: repair === undefined,
    noBacking: true,
  });
  return withImage(image, async () => {
    if (!image.check) {
      io.err(`${PROG}: This image format does not support checks\n`);
      return EXIT_CHECK_UNSUPPORTED;
    }
    const r = await image.check(repair);
    if (!opts.has("q")) io.out(output === "json" ? jsonCheck(r) : humanCheck(r));
    if (r["check-errors"]) return 1;
    if (r.corruptions) return 2;
    if (r.leaks) return 3;
    return 0;
  });
}
