/** @backplane/virtio-net — a virtio 1.2 network device over any NetBackend. */
export * from "./virtio-net.js";
