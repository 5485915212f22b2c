/** @backplane/virtio/testing — a mock guest driver for testing virtio devices. */
export {
  type MockDriverOptions,
  MockVirtioDriver,
  type RawDescriptor,
  type UsedElement,
} from "./mock-driver.js";
