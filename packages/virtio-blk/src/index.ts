/** @backplane/virtio-blk — a virtio 1.2 block device backed by any BlockBackend. */
export * from "./virtio-blk.js";
