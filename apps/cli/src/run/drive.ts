/**
 * `-drive` (QEMU 7.2 docs/system/invocation.rst, "Block device options"):
 * `file=F[,format=raw|qcow2|vpc|vhd|vmdk|vdi][,if=virtio|none][,id=X]
 * [,readonly=on][,snapshot=on][,media=disk]`. Images open through the
 * @backplane/disk registry with every format `backplane img` knows, on host
 * files. `snapshot=on` opens the image read-only and puts a copy-on-write
 * overlay in a temporary file on top, so guest writes never reach the image
 * (as QEMU's temporary qcow2 overlay); `readonly=on` opens it read-only and
 * the disk is read-only to the guest. A guest flush reaches the host file.
 *
 * Deviation: without `if=`, QEMU's virt board leaves the drive unattached
 * (`if=none`), as here; `if=virtio` gives a virtio-mmio disk where QEMU 7.2
 * would plug virtio-blk-pci into its PCIe host (which Backplane does not
 * model). No `cache=`, `aio=`, `discard=` or error-policy options.
 */
import { BackplaneError, type BlockBackend } from "@backplane/core";
import { CowOverlay, type DiskImage, findFormat } from "@backplane/disk";
import { FileByteSource, openDiskFile } from "@backplane/host-node";
import { registerAllFormats } from "../img/formats.js";
import { QemuOpts } from "./qemu-opts.js";

/** A parsed -drive. */
export interface DriveSpec {
  opts: QemuOpts;
  file: string;
  /** Format name or alias; probed when absent. */
  format: string | undefined;
  /** `virtio`: a virtio-blk disk of its own; `none`: for `-device virtio-blk-device,drive=ID`. */
  interface: "virtio" | "none";
  id: string | undefined;
  readOnly: boolean;
  snapshot: boolean;
}

export function parseDrive(text: string): DriveSpec {
  const opts = new QemuOpts("-drive", text).only([
    "file",
    "format",
    "if",
    "id",
    "readonly",
    "snapshot",
    "media",
  ]);
  const format = opts.get("format");
  if (format !== undefined) {
    registerAllFormats();
    if (!findFormat(format)) {
      throw opts.error(`unknown format '${format}' (use raw, qcow2, vpc, vhd, vmdk or vdi)`);
    }
  }
  const iface = opts.get("if") ?? "none";
  if (iface !== "virtio" && iface !== "none") {
    throw opts.error(`if=${iface} is not supported (use if=virtio or if=none)`);
  }
  const media = opts.get("media");
  if (media !== undefined && media !== "disk") throw opts.error(`media=${media} is not supported`);
  return {
    opts,
    file: opts.require("file"),
    format,
    interface: iface,
    id: opts.get("id"),
    readOnly: opts.bool("readonly"),
    snapshot: opts.bool("snapshot"),
  };
}

/** Opens the drive's image as the guest will see it. */
export async function openDrive(spec: DriveSpec): Promise<BlockBackend> {
  registerAllFormats();
  let image: DiskImage;
  try {
    image = await openDiskFile(spec.file, { format: spec.format, readOnly: spec.readOnly || spec.snapshot });
  } catch (err) {
    throw err instanceof BackplaneError ? spec.opts.error(err.message) : err;
  }
  if (!spec.snapshot || spec.readOnly) return image;
  try {
    return new CowOverlay(image, { store: await FileByteSource.temporary("backplane-snapshot-") });
  } catch (err) {
    await image.close();
    throw err;
  }
}
