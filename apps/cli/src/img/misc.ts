/** `img resize`, `img snapshot` and `img measure`. */
import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import { chainBlockStatus, defaultRegistry, type MeasureResult } from "@backplane/disk";
import { openDiskFile } from "@backplane/host-node";
import { Options, outputFormat, parseArgs, parseKeyValues, UsageError } from "./args.js";
import { humanSnapshots, type Io, json, withImage } from "./common.js";
import { parseSize } from "./size.js";

export async function resize(argv: string[], io: Io): Promise<number> {
  // As qemu-img does: a last argument starting with '-' is the (negative) size, not an option.
  const last = argv[argv.length - 1];
  const negative = last !== undefined && /^-\d/.test(last);
  const opts = new Options(
    parseArgs(negative ? argv.slice(0, -1) : argv, {
      short: ":f:hq",
      long: {
        help: { key: "h", value: false },
        object: { key: "object", value: true },
        "image-opts": { key: "image-opts", value: false },
        preallocation: { key: "preallocation", value: true },
        shrink: { key: "shrink", value: false },
      },
    }),
  );
  const operands = negative ? [...opts.operands, last] : opts.operands;
  if (operands.length !== 2) throw new UsageError("Not enough arguments");
  const [file, sizeText] = operands;
  const sign = sizeText[0] === "+" ? 1 : sizeText[0] === "-" ? -1 : 0;
  const amount = parseSize(sign ? sizeText.slice(1) : sizeText);
  if (opts.get("preallocation") !== undefined && opts.get("preallocation") !== "off") {
    throw new UnsupportedError("resize --preallocation is not supported");
  }
  const image = await openDiskFile(file, { format: opts.get("f"), noBacking: true });
  return withImage(image, async () => {
    const size = sign ? image.size + sign * amount : amount;
    if (size < 0) throw new InvalidArgumentError("New image size must be positive");
    if (!image.resize) throw new UnsupportedError(`Image format '${image.format}' does not support resizing`);
    if (size < image.size && !opts.has("shrink")) {
      io.err(
        "backplane img: warning: Shrinking an image will delete all data beyond the shrunken image's end. Before performing such an operation, make sure there is no important data there.\n",
      );
      throw new InvalidArgumentError("Use the --shrink option to perform a shrink operation.");
    }
    await image.resize(size, { shrink: opts.has("shrink") });
    if (!opts.has("q")) io.out("Image resized.\n");
    return 0;
  });
}

export async function snapshot(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":la:c:d:fhqU",
      long: {
        help: { key: "h", value: false },
        object: { key: "object", value: true },
        "image-opts": { key: "image-opts", value: false },
        "force-share": { key: "U", value: false },
      },
    }),
  );
  const actions = ["l", "a", "c", "d"].filter((k) => opts.has(k));
  if (actions.length > 1) throw new UsageError("Cannot mix '-l', '-a', '-c', '-d'");
  if (opts.operands.length !== 1) throw new UsageError("Expecting one image file name");
  const action = actions[0] ?? "l";
  const image = await openDiskFile(opts.operands[0], {
    format: opts.get("f"),
    readOnly: action === "l",
    noBacking: true,
  });
  return withImage(image, async () => {
    const name = opts.get(action) ?? "";
    const fail = (verb: string) =>
      new UnsupportedError(
        `Could not ${verb} snapshot '${name}': format '${image.format}' has no internal snapshots`,
      );
    switch (action) {
      case "l": {
        if (!image.listSnapshots)
          throw new UnsupportedError(`format '${image.format}' has no internal snapshots`);
        const list = await image.listSnapshots();
        if (list.length > 0) io.out(humanSnapshots(list));
        return 0;
      }
      case "c":
        if (!image.createSnapshot) throw fail("create");
        {
          const ms = Date.now();
          await image.createSnapshot(name, { dateSec: Math.floor(ms / 1000), dateNsec: (ms % 1000) * 1e6 });
        }
        break;
      case "a":
        if (!image.applySnapshot) throw fail("apply");
        await image.applySnapshot(name);
        break;
      default:
        if (!image.deleteSnapshot) throw fail("delete");
        await image.deleteSnapshot(name);
    }
    await image.flush();
    return 0;
  });
}

export async function measure(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":hf:O:o:l:U",
      long: {
        help: { key: "h", value: false },
        size: { key: "size", value: true },
        output: { key: "output", value: true },
        object: { key: "object", value: true },
        "image-opts": { key: "image-opts", value: false },
        "force-share": { key: "U", value: false },
      },
    }),
  );
  const output = outputFormat(opts);
  const sizeText = opts.get("size");
  if (sizeText !== undefined && opts.operands.length > 0) {
    throw new InvalidArgumentError("--size N cannot be used together with a filename.");
  }
  if (sizeText === undefined && opts.operands.length !== 1) {
    throw new InvalidArgumentError("Either --size N or one filename must be specified.");
  }
  const outFormat = opts.get("O") ?? "raw";
  const driver = defaultRegistry.find(outFormat);
  if (!driver) throw new InvalidArgumentError(`Unknown file format '${outFormat}'`);
  const measureFn = driver.measure?.bind(driver);
  if (!measureFn)
    throw new UnsupportedError(`Format driver '${driver.name}' does not support size measurement`);
  const options = parseKeyValues(opts.all("o"));
  let result: MeasureResult;
  if (sizeText !== undefined) {
    result = measureFn({ size: parseSize(sizeText), options });
  } else {
    const image = await openDiskFile(opts.operands[0], { format: opts.get("f"), readOnly: true });
    result = await withImage(image, async () => {
      const extents = (await chainBlockStatus(image, 0, image.size)).filter((e) => e.data);
      return measureFn({ size: image.size, extents, options, sourceFormat: image.format });
    });
  }
  if (output === "json") io.out(json(result));
  else {
    io.out(`required size: ${result.required}\nfully allocated size: ${result["fully-allocated"]}\n`);
    if (result.bitmaps !== undefined) io.out(`bitmaps size: ${result.bitmaps}\n`);
  }
  return 0;
}
