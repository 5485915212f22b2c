/** Helpers for format drivers; unstable API, meant to move into @backplane/disk. */
export { randomUuid, readBacking, readExact, SerialQueue } from "./io.js";
