/** @backplane/host-web — browser host adapters: disk images over HTTP range requests. */
export { HttpByteSource, type HttpByteSourceOptions, openHttpByteSource } from "./http-source.js";
