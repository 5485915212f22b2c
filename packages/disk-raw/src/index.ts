/** @backplane/disk-raw — raw disk images (the file is the disk) as a `DiskImage`. */
export { RawImage, raw } from "./raw.js";
