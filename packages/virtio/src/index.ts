/**
 * @backplane/virtio — the virtio 1.2 MMIO transport and split virtqueue.
 * Device logic (virtio-blk, virtio-net, ...) implements {@link VirtioDevice}.
 */
export * from "./constants.js";
export { readConfigBytes, type VirtioDevice, type VirtioDeviceContext } from "./device.js";
export {
  type VirtioMmioHooks,
  type VirtioMmioState,
  VirtioMmioTransport,
  type VirtioMmioTransportOptions,
} from "./mmio-transport.js";
export {
  DescriptorChain,
  type GuestBuffer,
  SplitVirtqueue,
  VirtqueueError,
  type VirtqueueState,
} from "./virtqueue.js";
