/**
 * Disk images in host files: `openDiskFile` opens an image and its backing
 * chain, resolving relative backing-file names against the directory of the
 * image that names them (as qemu does) and refusing loops (files are compared
 * by real path, so symlinks and `./x` spellings are caught);
 * `createDiskFile` creates a new image file with a given format, atomically.
 *
 * Deviation: backing references are plain paths; protocol prefixes
 * (`nbd:`, `http:`, `json:`) are refused.
 */
import { mkdtemp, realpath, rename, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import { UnsupportedError } from "@backplane/core";
import {
  type BackingOpener,
  type Compressor,
  type CreateOptions,
  chainOpener,
  type DiskImage,
  defaultRegistry,
  type FormatRegistry,
  type SiblingOpener,
  type SourceResolver,
} from "@backplane/disk";
import { FileByteSource, type FileIoOptions, fileError } from "./file.js";

/** Options for {@link openDiskFile}. */
export interface OpenDiskFileOptions {
  /** Format name or alias; probed when omitted. */
  format?: string;
  /** Open without write access (backing files are always read-only unless `writableBacking`). */
  readOnly?: boolean;
  /** Open only this image, not its backing chain. */
  noBacking?: boolean;
  /** Open the direct backing image writable (for `commit`). */
  writableBacking?: boolean;
  /** Maximum backing-chain depth. */
  maxDepth?: number;
  registry?: FormatRegistry;
  /** How the image's own file (not its backing files) moves bytes: cache mode, synchronous small requests. */
  io?: FileIoOptions;
  /** Compresses clusters for the image's `writeCompressed` (see `OpenOptions.compressor` in @backplane/disk). */
  compressor?: Compressor;
}

/** Where a backing-file reference written in `relativeTo` points on this host (relative when `relativeTo` is, like qemu). */
export function resolveBackingPath(name: string, relativeTo: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(name)) {
    throw new UnsupportedError(`backing file '${name}': protocol references are not supported`);
  }
  return isAbsolute(name) ? name : join(dirname(relativeTo), name);
}

async function fileKey(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    throw fileError(path, err);
  }
}

/** Resolves backing references to host files. */
export const fileResolver: SourceResolver = async (name, relativeTo, readOnly) => {
  const path = resolveBackingPath(name, relativeTo);
  const key = await fileKey(path);
  return { source: await FileByteSource.open(path, { readOnly }), key };
};

/** Opens (or with `create`, creates) the other files of a multi-file image, relative to the image's directory. */
export const fileSiblingOpener: SiblingOpener = (name, relativeTo, options) =>
  siblingOpener({})(name, relativeTo, options);

/** A sibling opener whose files move bytes as `io` says. */
function siblingOpener(io: FileIoOptions): SiblingOpener {
  return async (name, relativeTo, options) => {
    const path = resolveBackingPath(name, relativeTo);
    return options.create
      ? FileByteSource.create(path, io)
      : FileByteSource.open(path, { ...io, readOnly: options.readOnly });
  };
}

/** A `BackingOpener` for images stored in host files. */
export function fileBackingOpener(
  top: string,
  options: Pick<OpenDiskFileOptions, "writableBacking" | "maxDepth" | "registry"> & { topKey?: string } = {},
): BackingOpener {
  return chainOpener(fileResolver, {
    registry: options.registry,
    writable: options.writableBacking,
    maxDepth: options.maxDepth,
    openSibling: fileSiblingOpener,
    chain: [options.topKey ?? top],
  });
}

/** Opens the image in `path` and its backing chain. */
export async function openDiskFile(path: string, options: OpenDiskFileOptions = {}): Promise<DiskImage> {
  const registry = options.registry ?? defaultRegistry;
  const source = await FileByteSource.open(path, { ...options.io, readOnly: options.readOnly });
  try {
    const topKey = await fileKey(path);
    return await registry.open(source, {
      format: options.format,
      readOnly: options.readOnly,
      noBacking: options.noBacking,
      compressor: options.compressor,
      openSibling: siblingOpener(options.io ?? {}),
      openBacking: fileBackingOpener(path, { ...options, topKey }),
    });
  } catch (err) {
    await source.close();
    throw err;
  }
}

/** Options for {@link createDiskFile} and {@link prepareDiskFile}. */
export type CreateDiskFileOptions = Omit<CreateOptions, "openBacking" | "openSibling"> & {
  /** Never open the backing file (`create -u`): the size must be given, the image has no backing. */
  noBacking?: boolean;
  /** How the new image's files move bytes. */
  io?: FileIoOptions;
};

/** A new image whose files are not at their final names yet. */
export interface PendingDiskFile {
  /** The new image, open for writing. */
  readonly image: DiskImage;
  /** Moves the image's files to their final names, replacing existing files. */
  place(): Promise<void>;
  /** Closes the image and deletes its files; nothing at the final names changes. */
  discard(): Promise<void>;
}

/**
 * Creates a new image of `format` for `path` without touching `path` yet:
 * the image (and any sibling files it creates next to itself, such as a VMDK
 * flat extent) is built in a temporary directory beside `path` under its
 * final names; `place()` moves it into place. Backing and sibling names
 * resolve relative to `path`. `convert` fills the image before placing it, so
 * a failed conversion never destroys the file it would have replaced.
 */
export async function prepareDiskFile(
  path: string,
  format: string,
  options: CreateDiskFileOptions,
  registry: FormatRegistry = defaultRegistry,
): Promise<PendingDiskFile> {
  const driver = registry.get(format);
  const dir = dirname(path);
  let work: string;
  try {
    work = await mkdtemp(join(dir, ".backplane-create-"));
  } catch (err) {
    throw fileError(path, err);
  }
  const temp = join(work, basename(path));
  const created: string[] = [];
  const backing = fileBackingOpener(path, { registry });
  const removeWork = () => rm(work, { recursive: true, force: true });
  let source: FileByteSource | undefined;
  try {
    const { noBacking, io = {}, ...createOptions } = options;
    source = await FileByteSource.create(temp, io);
    const image = await driver.create(source, {
      ...createOptions,
      // Names stored in the image are relative to its final place, not the work directory.
      openBacking: noBacking
        ? undefined
        : (name, fmt, relativeTo) => backing(name, fmt, relativeTo === temp ? path : relativeTo),
      openSibling: (name, relativeTo, opts) => {
        if (opts.create && !isAbsolute(name) && dirname(resolveBackingPath(name, relativeTo)) === work) {
          created.push(basename(name));
        }
        return siblingOpener(io)(name, relativeTo, opts);
      },
    });
    const placed = source;
    return {
      image,
      async place() {
        for (const name of created) await rename(join(work, name), join(dir, name));
        await placed.rename(path);
        await removeWork();
      },
      async discard() {
        try {
          await image.close();
        } finally {
          await removeWork();
        }
      },
    };
  } catch (err) {
    await source?.close();
    await removeWork();
    throw err;
  }
}

/** Creates `path` as a new image of `format` (replacing any file there only once the driver succeeded). */
export async function createDiskFile(
  path: string,
  format: string,
  options: CreateDiskFileOptions,
  registry: FormatRegistry = defaultRegistry,
): Promise<DiskImage> {
  const pending = await prepareDiskFile(path, format, options, registry);
  try {
    await pending.place();
  } catch (err) {
    await pending.discard();
    throw err;
  }
  return pending.image;
}
