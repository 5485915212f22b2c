/**
 * Compressed cluster payloads (spec: QEMU docs/interop/qcow2.txt, "Compressed
 * Clusters Descriptor" and the compression_type header field): raw deflate
 * (RFC 1951, no zlib or gzip wrapper) and zstd frames.
 *
 * Deviation: zstd is read only. No maintained pure JS/WASM zstd encoder fits a
 * browser-safe, synchronous library here, so compressing into a zstd image
 * throws UnsupportedError.
 */
import { CorruptDataError, UnsupportedError } from "@backplane/core";
import { deflateSync, inflateSync } from "fflate";
import { decompress as zstdDecompress } from "fzstd";
import { COMPRESSION_DEFLATE } from "./header.js";

/** Decompresses one cluster; `data` may carry trailing bytes past the end of the stream. */
export function decompressCluster(type: number, data: Uint8Array, clusterSize: number): Uint8Array {
  const out = new Uint8Array(clusterSize);
  let got: Uint8Array;
  try {
    got = type === COMPRESSION_DEFLATE ? inflateSync(data, { out }) : zstdDecompress(data, out);
  } catch (cause) {
    throw new CorruptDataError("qcow2: compressed cluster does not decompress", { cause });
  }
  if (got.length !== clusterSize) {
    throw new CorruptDataError(
      `qcow2: compressed cluster decompresses to ${got.length} bytes, not ${clusterSize}`,
    );
  }
  return got;
}

/** Compresses one cluster, or returns undefined when compression does not save space. */
export function compressCluster(type: number, data: Uint8Array): Uint8Array | undefined {
  if (type !== COMPRESSION_DEFLATE) {
    throw new UnsupportedError("qcow2: writing zstd-compressed clusters is not supported");
  }
  const packed = deflateSync(data, { level: 6 });
  return packed.length < data.length ? packed : undefined;
}
