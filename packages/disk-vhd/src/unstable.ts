/** Helpers for format drivers; unstable API, meant to move into @backplane/disk. */
export { SerialQueue } from "./io.js";
