/** @backplane/memory — Guest RAM, ROM and an AddressSpace that maps regions and MMIO devices, with a RAM fast path and dirty-page tracking. */
export {};
