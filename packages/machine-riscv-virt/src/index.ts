/** @backplane/machine-riscv-virt — A RISC-V 'virt' board matching QEMU's memory map, composed from Backplane packages, with generated device tree. */
export { type Board, type BoardDevice, devicesOf, VIRT_BOARD, VIRTIO_SLOTS } from "./board.js";
export {
  dtbAddress,
  type ImageKind,
  imageKind,
  initrdStart,
  kernelStart,
  type ResetVector,
  resetVector,
} from "./boot.js";
export { buildDeviceTree, type DeviceTreeOptions, setChosen } from "./device-tree.js";
export {
  type BootImages,
  type BootLayout,
  type ExitStatus,
  VirtMachine,
  type VirtMachineOptions,
} from "./machine.js";
