/** @backplane/virtio-console — a virtio 1.2 console device on a CharBackend. */
export { VIRTIO_ID_CONSOLE, VirtioConsole, type VirtioConsoleOptions } from "./virtio-console.js";
