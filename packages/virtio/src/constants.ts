/**
 * Constants of the virtio 1.2 specification (OASIS, Committee Specification 01):
 * device status bits (2.1), reserved feature bits (6), split virtqueue flags
 * (2.7.5, 2.7.6, 2.7.8) and the MMIO transport's register layout (4.2.2,
 * Table 4.1, version 2 registers).
 */

/** Device status field bits (2.1). */
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 64;
export const STATUS_FAILED = 128;

/** Reserved feature bits (6), as bit numbers. */
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

/** Split virtqueue descriptor flags (2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available ring flag: driver asks for no used-buffer notifications (2.7.6). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Used ring flag: device asks for no available-buffer notifications (2.7.8). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Interrupt status bits (4.2.2). */
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

/** MMIO register offsets (4.2.2, Table 4.1). */
export const MagicValue = 0x000; // "virt" little-endian
export const Version = 0x004; // 2 for virtio 1.x
export const DeviceID = 0x008;
export const VendorID = 0x00c;
export const DeviceFeatures = 0x010;
export const DeviceFeaturesSel = 0x014;
export const DriverFeatures = 0x020;
export const DriverFeaturesSel = 0x024;
export const QueueSel = 0x030;
export const QueueNumMax = 0x034;
export const QueueNum = 0x038;
export const QueueReady = 0x044;
export const QueueNotify = 0x050;
export const InterruptStatus = 0x060;
export const InterruptACK = 0x064;
export const Status = 0x070;
export const QueueDescLow = 0x080;
export const QueueDescHigh = 0x084;
export const QueueDriverLow = 0x090;
export const QueueDriverHigh = 0x094;
export const QueueDeviceLow = 0x0a0;
export const QueueDeviceHigh = 0x0a4;
export const SHMSel = 0x0ac;
export const SHMLenLow = 0x0b0;
export const SHMLenHigh = 0x0b4;
export const SHMBaseLow = 0x0b8;
export const SHMBaseHigh = 0x0bc;
export const QueueReset = 0x0c0;
export const ConfigGeneration = 0x0fc;
export const Config = 0x100;

export const MAGIC = 0x74726976;
/** Vendor ID reported by the transport ("QEMU", as QEMU's virt board does). */
export const VENDOR_ID = 0x554d4551;
/** Size of one virtio-mmio window on the virt board. */
export const MMIO_WINDOW_SIZE = 0x200;
