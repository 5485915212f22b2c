/** @backplane/host-node — Node.js host adapters for Backplane: files as byte sources, stdio as a character backend, host time. */

export { type AptSourceFile, readAptSourceFiles } from "./apt-sources.js";
export { readFileIfExists, userCacheDir, writeFileAtomic } from "./cache.js";
export { WorkerCompressor, type WorkerCompressorOptions } from "./compressor.js";
export {
  type CreateDiskFileOptions,
  createDiskFile,
  fileBackingOpener,
  fileResolver,
  fileSiblingOpener,
  type OpenDiskFileOptions,
  openDiskFile,
  type PendingDiskFile,
  prepareDiskFile,
  resolveBackingPath,
} from "./disk-file.js";
export { FileByteSource, type FileIoOptions, type FileOpenOptions, fileError, HostIoError } from "./file.js";
export { type DownloadProgress, type HttpGetOptions, httpGet } from "./http-fetch.js";
export { SOCKET_NET_MAX_FRAME, SocketNetBackend, type SocketNetHooks } from "./net-socket.js";
export { StdioCharBackend, type StdioOptions } from "./stdio.js";
