/** @backplane/memory — Guest RAM, ROM and an AddressSpace that maps regions and MMIO devices, with a RAM fast path and dirty-page tracking. */

export {
  AddressSpace,
  type AddressSpaceEvents,
  Region,
  UNMAPPED,
  UNMAPPED64,
  WRITE_OK,
  WRITE_READ_ONLY,
  WRITE_UNMAPPED,
  type WriteStatus,
} from "./address-space.js";
export { MemoryBlock, PAGE_SHIFT, PAGE_SIZE, Ram, Rom } from "./block.js";
export { AddressSpaceGuestMemory } from "./guest-memory.js";
