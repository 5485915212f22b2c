/** `img convert`, `img commit` and `img rebase`: the commands that copy data between images. */
import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import { copyImage, type DiskImage, defaultRegistry, isZero, readBacking } from "@backplane/disk";
import { openDiskFile, prepareDiskFile, resolveBackingPath, WorkerCompressor } from "@backplane/host-node";
import { Options, parseArgs, parseKeyValues, UsageError } from "./args.js";
import { firstDifference, type Io, withImage } from "./common.js";
import { parseSize } from "./size.js";

/** A `-p` progress line on stderr, redrawn in place like qemu-img's. */
function progress(io: Io, enabled: boolean): { update(done: number, total: number): void; end(): void } {
  let last = -1;
  const draw = (pct: number) => io.err(`    (${pct.toFixed(2)}/100%)\r`);
  return {
    update(done, total) {
      if (!enabled) return;
      const pct = total === 0 ? 100 : Math.floor((done / total) * 10000) / 100;
      if (pct - last >= 1 || pct === 100) {
        last = pct;
        draw(pct);
      }
    },
    end() {
      if (!enabled) return;
      if (last < 100) draw(100);
      io.err("\n");
    },
  };
}

/**
 * A qemu `cache=` mode, as far as our files go: `unsafe` skips fdatasync(2)
 * (qemu-img convert's default for its target, checked with strace); the
 * others flush when the command ends (writethrough and directsync do not
 * flush after every write here).
 */
function cacheMode(mode: string, what: string): "writeback" | "unsafe" {
  if (mode === "unsafe") return "unsafe";
  if (["none", "off", "writeback", "writethrough", "directsync"].includes(mode)) return "writeback";
  throw new InvalidArgumentError(`Invalid ${what} option: ${mode}`);
}

export async function convert(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":hf:O:B:Cco:l:S:pt:T:qnm:WUr:",
      long: {
        help: { key: "h", value: false },
        object: { key: "object", value: true },
        "image-opts": { key: "image-opts", value: false },
        "target-is-zero": { key: "target-is-zero", value: false },
        "force-share": { key: "U", value: false },
      },
    }),
  );
  if (opts.operands.length < 2) throw new UsageError("Must specify image file name");
  if (opts.operands.length > 2)
    throw new UnsupportedError("converting several source images into one is not supported");
  if (opts.has("B")) throw new UnsupportedError("convert -B (output backing file) is not supported");
  if (opts.has("l")) throw new UnsupportedError("convert -l (internal snapshot source) is not supported");
  const [srcName, dstName] = opts.operands;
  const outFormat = opts.get("O") ?? "raw";
  const driver = defaultRegistry.find(outFormat);
  if (!driver) throw new InvalidArgumentError(`Unknown file format '${outFormat}'`);
  const sparse = opts.has("S") ? parseSize(opts.get("S") ?? "") : 4096;
  if (sparse % 512 !== 0 || sparse > 16 << 20) {
    throw new InvalidArgumentError(
      "Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to 16777216. Select 0 to disable sparse detection (fully allocates output).",
    );
  }
  const options = parseKeyValues(opts.all("o"));
  const existing = opts.has("n");
  const cache = cacheMode(opts.get("t") ?? "unsafe", "cache");
  cacheMode(opts.get("T") ?? "writeback", "source cache");

  const src = await openDiskFile(srcName, { format: opts.get("f"), readOnly: true });
  // -c compresses on worker threads.
  const compressor = opts.has("c") ? new WorkerCompressor() : undefined;
  return withImage(src, async () => {
    // A new target is filled beside its final name and moved there only when complete,
    // so a failed conversion never destroys the file it would have replaced.
    const pending = existing
      ? undefined
      : await prepareDiskFile(dstName, driver.name, { size: src.size, options, compressor, io: { cache } });
    const dst =
      pending?.image ??
      (await openDiskFile(dstName, { format: outFormat, noBacking: true, io: { cache }, compressor }));
    try {
      let compressChunk: number | undefined;
      if (opts.has("c")) {
        if (!dst.writeCompressed)
          throw new UnsupportedError("Compression not supported for this file format");
        compressChunk = (await dst.info())["cluster-size"] ?? 65536;
      }
      const bar = progress(io, opts.has("p") && !opts.has("q"));
      await copyImage(src, dst, {
        sparseSize: sparse,
        targetIsZero: !existing || opts.has("target-is-zero"),
        compressChunk,
        onProgress: (done, total) => bar.update(done, total),
      });
      await dst.flush();
      await pending?.place();
      bar.end();
    } catch (err) {
      await (pending ? pending.discard() : dst.close());
      throw err;
    }
    await dst.close();
    return 0;
  }).finally(() => compressor?.close());
}

export async function commit(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":f:ht:b:dpqT:r:",
      long: { help: { key: "h", value: false }, object: { key: "object", value: true } },
    }),
  );
  if (opts.operands.length !== 1) throw new UsageError("Expecting one image file name");
  const file = opts.operands[0];
  const image = await openDiskFile(file, { format: opts.get("f"), writableBacking: true });
  return withImage(image, async () => {
    const backing = image.backing;
    if (!backing) throw new InvalidArgumentError("Image does not have a backing file");
    const base = opts.get("b");
    if (
      base !== undefined &&
      resolveBackingPath(base, ".") !== resolveBackingPath(backing.source.name, ".")
    ) {
      throw new UnsupportedError("commit into a base other than the direct backing file is not supported");
    }
    if (backing.size < image.size) {
      if (!backing.resize)
        throw new UnsupportedError("the backing image cannot grow to the size of the image");
      await backing.resize(image.size);
    }
    const bar = progress(io, opts.has("p") && !opts.has("q"));
    await copyImage(image, backing, {
      ranges: "top",
      targetIsZero: false,
      sparseSize: 0,
      onProgress: (done, total) => bar.update(done, total),
    });
    await backing.flush();
    bar.end();
    // Like qemu-img: empty the committed image unless -d, when its driver can.
    if (!opts.has("d") && image.makeEmpty) await image.makeEmpty();
    if (!opts.has("q")) io.out("Image committed.\n");
    return 0;
  });
}

export async function rebase(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":hf:F:b:upCqt:T:U",
      long: {
        help: { key: "h", value: false },
        object: { key: "object", value: true },
        "image-opts": { key: "image-opts", value: false },
        "force-share": { key: "U", value: false },
      },
    }),
  );
  if (opts.operands.length !== 1) throw new UsageError("Expecting one image file name");
  const file = opts.operands[0];
  const newName = opts.get("b");
  if (newName === undefined) throw new UsageError("Must specify backing file (-b) or use unsafe mode (-u)");
  const newFormat = opts.get("F");
  const unsafe = opts.has("u");
  const image = await openDiskFile(file, { format: opts.get("f"), noBacking: unsafe });
  return withImage(image, async () => {
    if (!image.setBackingFile)
      throw new UnsupportedError(`format '${image.format}' cannot store a backing file`);
    if (!unsafe) {
      const newBacking =
        newName === ""
          ? undefined
          : await openDiskFile(resolveBackingPath(newName, file), { format: newFormat, readOnly: true });
      try {
        await keepContents(image, newBacking, io, opts.has("p") && !opts.has("q"));
      } finally {
        await newBacking?.close();
      }
    }
    await image.setBackingFile(newName === "" ? undefined : newName, newName === "" ? undefined : newFormat);
    await image.flush();
    return 0;
  });
}

/** Before a safe rebase: copies into `image` every unallocated range whose old-chain contents differ from the new backing. */
async function keepContents(
  image: DiskImage,
  newBacking: DiskImage | undefined,
  io: Io,
  showProgress: boolean,
) {
  const chunk = 65536;
  const oldBuf = new Uint8Array(chunk);
  const newBuf = new Uint8Array(chunk);
  const bar = progress(io, showProgress);
  for (const e of await image.blockStatus(0, image.size)) {
    if (e.data || e.zero) continue;
    for (let off = e.start; off < e.start + e.length; off += chunk) {
      const n = Math.min(chunk, e.start + e.length - off);
      await readBacking(image.backing, off, oldBuf.subarray(0, n));
      await readBacking(newBacking, off, newBuf.subarray(0, n));
      const a = oldBuf.subarray(0, n);
      const b = newBuf.subarray(0, n);
      if (firstDifference(a, b) >= 0) {
        if (isZero(a) && image.writeZeroes) await image.writeZeroes(off, n);
        else await image.write(off, a);
      }
      bar.update(off + n, image.size);
    }
  }
  bar.end();
}
