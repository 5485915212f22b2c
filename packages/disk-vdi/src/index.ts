/** @backplane/disk-vdi — VirtualBox VDI dynamic and static disk images. */
export {
  VDI_IMAGE_BLOCK_FREE,
  VDI_IMAGE_BLOCK_ZERO,
  VDI_IMAGE_SIGNATURE,
  VDI_IMAGE_TYPE_FIXED,
  VDI_IMAGE_TYPE_NORMAL,
  VDI_IMAGE_VERSION,
  type VdiHeader,
  VdiImage,
  vdiFormat,
} from "./vdi.js";
