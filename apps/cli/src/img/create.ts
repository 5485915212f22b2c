/** `img create [-f fmt] [-o opts] [-b backing [-F fmt]] [-u] [-q] filename [size]` */
import { BackplaneError, InvalidArgumentError } from "@backplane/core";
import { type DiskImage, defaultRegistry } from "@backplane/disk";
import { createDiskFile, openDiskFile, resolveBackingPath } from "@backplane/host-node";
import { Options, parseArgs, parseKeyValues, UsageError } from "./args.js";
import type { Io } from "./common.js";
import { parseSize } from "./size.js";

export async function create(argv: string[], io: Io): Promise<number> {
  const opts = new Options(
    parseArgs(argv, {
      short: ":F:b:f:ho:qu",
      long: { help: { key: "h", value: false }, object: { key: "object", value: true } },
    }),
  );
  const [file, sizeText, ...extra] = opts.operands;
  if (file === undefined) throw new UsageError("Expecting image file name");
  if (extra.length > 0) throw new UsageError(`Unexpected argument: ${extra[0]}`);
  const format = opts.get("f") ?? "raw";
  const driver = defaultRegistry.find(format);
  if (!driver) throw new InvalidArgumentError(`${file}: Unknown file format '${format}'`);
  const options = parseKeyValues(opts.all("o"));
  let backingFile: string | undefined = opts.get("b") ?? options.backing_file;
  const backingFormat = opts.get("F") ?? options.backing_fmt;
  delete options.backing_file;
  delete options.backing_fmt;
  if (backingFile === "") backingFile = undefined;
  let size =
    sizeText !== undefined
      ? parseSize(sizeText)
      : options.size !== undefined
        ? parseSize(options.size)
        : undefined;
  delete options.size;
  if (backingFile !== undefined) {
    if (backingFormat === undefined)
      throw new InvalidArgumentError(`${file}: Backing file specified without backing format`);
    if (!opts.has("u")) {
      // Like qemu-img: check the backing file opens (unless -u), and take its size when none is given.
      const backing = await openDiskFile(resolveBackingPath(backingFile, file), {
        format: backingFormat,
        readOnly: true,
      });
      size ??= backing.size;
      await backing.close();
    }
  } else if (backingFormat !== undefined) {
    throw new InvalidArgumentError(`${file}: Backing format specified without backing file`);
  }
  if (size === undefined) throw new InvalidArgumentError(`${file}: Image creation needs a size parameter`);
  let image: DiskImage;
  try {
    image = await createDiskFile(file, driver.name, {
      size,
      backingFile,
      backingFormat,
      options,
      noBacking: opts.has("u"),
    });
  } catch (err) {
    // Like qemu-img, name the file in creation errors.
    if (err instanceof BackplaneError)
      throw new InvalidArgumentError(`${file}: ${err.message}`, { cause: err });
    throw err;
  }
  await image.close();
  if (!opts.has("q")) {
    const extras = [
      ...Object.entries(options).map(([k, v]) => `${k}=${v}`),
      `size=${size}`,
      ...(backingFile !== undefined ? [`backing_file=${backingFile}`, `backing_fmt=${backingFormat}`] : []),
    ];
    io.out(`Formatting '${file}', fmt=${driver.name} ${extras.join(" ")}\n`);
  }
  return 0;
}
