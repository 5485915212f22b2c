// Which @backplane packages each package may import (DESIGN.md, "Packages" and rules 1-3).
// A package not named here must be added deliberately: the check fails on it.

const contractsOnly = ["core"];

/** @type {Record<string, string[] | "any">} */
export const allowedImports = {
  core: [],
  fdt: contractsOnly,
  testing: contractsOnly,
  memory: contractsOnly,
  riscv: ["core", "memory"], // the hart's fast path reads RAM through the AddressSpace
  uart16550: contractsOnly,
  aclint: contractsOnly,
  plic: contractsOnly,
  "goldfish-rtc": contractsOnly,
  syscon: contractsOnly,
  scheduler: contractsOnly,
  snapshot: contractsOnly,
  virtio: contractsOnly,
  "virtio-blk": ["core", "virtio"],
  "virtio-net": ["core", "virtio"],
  "virtio-console": ["core", "virtio"],
  "virtio-rng": ["core", "virtio"],
  "virtual-switch": contractsOnly,
  disk: contractsOnly,
  "disk-raw": ["core", "disk"],
  "disk-qcow2": ["core", "disk"],
  "disk-vhd": ["core", "disk"],
  "disk-vmdk": ["core", "disk"],
  "disk-vdi": ["core", "disk"],
  "guest-image": contractsOnly,
  "host-node": ["core", "disk"],
  "host-web": ["core", "disk"],
  "machine-riscv-virt": "any",
  cli: "any",
};

/** Packages that may touch host APIs (node:*, DOM, timers, wall clock). */
export const hostPackages = new Set(["host-node", "host-web", "cli", "config", "boundaries", "scaffold"]);

/**
 * Packages that may read the wall clock (Date.now, new Date): image formats
 * stamp creation and snapshot times into their metadata. Emulation timing
 * still comes only from injected clocks.
 */
export const wallClockPackages = new Set([
  "disk",
  "disk-raw",
  "disk-qcow2",
  "disk-vhd",
  "disk-vmdk",
  "disk-vdi",
]);

/** Apps compose machines; nothing else may import a machine, and nothing imports an app (DESIGN.md rule 3). */
export const appPackages = new Set(["cli"]);

export const neverImported = new Set(["machine-riscv-virt", "cli"]);
