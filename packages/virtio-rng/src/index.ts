/** @backplane/virtio-rng — a virtio 1.2 entropy device. */
export { type EntropySource, VIRTIO_ID_ENTROPY, VirtioRng, type VirtioRngOptions } from "./virtio-rng.js";
