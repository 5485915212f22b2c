/**
 * The format drivers `backplane img` knows. Each driver package is scanned for
 * exported `DiskFormat` objects, so a package that exports none yet simply
 * contributes no format.
 */
import { type DiskFormat, registerFormat } from "@backplane/disk";
import * as qcow2 from "@backplane/disk-qcow2";
import * as raw from "@backplane/disk-raw";
import * as vdi from "@backplane/disk-vdi";
import * as vhd from "@backplane/disk-vhd";
import * as vmdk from "@backplane/disk-vmdk";

function isDiskFormat(v: unknown): v is DiskFormat {
  const f = v as Partial<DiskFormat> | null;
  return (
    typeof f === "object" &&
    f !== null &&
    typeof f.name === "string" &&
    typeof f.probe === "function" &&
    typeof f.open === "function" &&
    typeof f.create === "function"
  );
}

let registered = false;

/** Registers every available driver in the default registry (once). */
export function registerAllFormats(): void {
  if (registered) return;
  registered = true;
  for (const pkg of [raw, qcow2, vhd, vmdk, vdi] as Record<string, unknown>[]) {
    for (const value of Object.values(pkg)) if (isDiskFormat(value)) registerFormat(value);
  }
}
