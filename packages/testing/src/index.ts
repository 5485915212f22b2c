/** @backplane/testing — Test fakes for Backplane components: IRQ recorder, manual clock, in-memory char/block/net backends and a fake guest RAM. */
export {};
