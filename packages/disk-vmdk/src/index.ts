/** @backplane/disk-vmdk — VMware VMDK (Virtual Disk Format 5.0) monolithicSparse, monolithicFlat and streamOptimized images. */
export {
  CID_NOPARENT,
  type ExtentDescription,
  formatDescriptor,
  parseDescriptor,
  type VmdkDescriptor,
} from "./descriptor.js";
export { SPARSE_MAGICNUMBER, type SparseExtentHeader } from "./sparse.js";
export { VmdkImage, vmdkFormat } from "./vmdk.js";
