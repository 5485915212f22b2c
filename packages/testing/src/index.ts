/** @backplane/testing — fakes for testing Backplane components: IRQ recorder, manual clock, in-memory char/block/net backends and a fake guest RAM. */
export { MemoryBlockBackend, type MemoryBlockBackendOptions } from "./block-backend.js";
export { MemoryCharBackend } from "./char-backend.js";
export { type FuzzMmioOptions, fuzzMmio } from "./fuzz.js";
export { FakeGuestRam } from "./guest-ram.js";
export { IrqRecorder } from "./irq-recorder.js";
export { ManualClock } from "./manual-clock.js";
export { createNetLink, MemoryNetEndpoint } from "./net-link.js";
export {
  type MappedDevice,
  type PeerFixture,
  type PeerOp,
  type PeerRow,
  peerMismatches,
  replayPeerFixture,
} from "./peer.js";
