/** @backplane/disk-vmdk — VMware VMDK (Virtual Disk Format 5.0) monolithicSparse, monolithicFlat and streamOptimized images. */
export {};
