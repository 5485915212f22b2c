/** @backplane/disk-raw — Raw disk images as a BlockBackend. */
export {};
