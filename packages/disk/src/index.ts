/** @backplane/disk — Disk-image plumbing: ByteSource contract, format probing, openDisk() registry, backing chains and copy-on-write overlays. */
export {};
