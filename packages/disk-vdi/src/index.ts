/** @backplane/disk-vdi — VirtualBox VDI dynamic and static disk images. */
export {};
