/** @backplane/disk-vhd — Microsoft VHD (Virtual Hard Disk Image Format Specification 1.0) fixed, dynamic and differencing images. */
export {
  chsGeometry,
  DISK_TYPE_DIFFERENCING,
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
  type ParentLocator,
  PLATFORM_CODE_MACX,
  PLATFORM_CODE_W2KU,
  PLATFORM_CODE_W2RU,
  type VhdDynamicHeader,
  type VhdFooter,
  vhdChecksum,
} from "./structures.js";
export { VhdImage, vhdCreateGeometry, vhdVirtualSize, vpcFormat } from "./vhd.js";
