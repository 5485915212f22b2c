/** @backplane/disk-qcow2 — QEMU qcow2 (versions 2 and 3) disk images: read, write, snapshots, compression and check. */
export { qcow2 } from "./format.js";
export { Qcow2Image, type Qcow2OpenOptions } from "./image.js";
