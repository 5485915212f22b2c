/**
 * Compressed cluster payloads (spec: QEMU docs/interop/qcow2.txt, "Compressed
 * Clusters Descriptor" and the compression_type header field): raw deflate
 * (RFC 1951, no zlib or gzip wrapper) and zstd frames.
 *
 * Decoding uses fflate (deflate) and fzstd (zstd), both pure JS. zstd
 * encoding uses the zstd library compiled to WebAssembly
 * (@hpcc-js/wasm-zstd), loaded on first use so deflate-only users never pay
 * for it. Its WebAssembly is inlined in its JavaScript, so the encoder works
 * unchanged in Node, in browsers and inside bundles; faster builds that load a
 * separate .wasm file (@bokuweb/zstd-wasm) break in a bundled CLI and need
 * bundler settings in browsers. A host can supply its own `Compressor`
 * (other threads, native zstd and zlib); this one is the default.
 */
import { CorruptDataError } from "@backplane/core";
import type { Compressor } from "@backplane/disk";
import { deflateSync, inflateSync } from "fflate";
import { decompress as zstdDecompress } from "fzstd";
import { COMPRESSION_DEFLATE } from "./header.js";

/** Decompresses one cluster; `data` may carry trailing bytes past the end of the stream. */
export function decompressCluster(type: number, data: Uint8Array, clusterSize: number): Uint8Array {
  const out = new Uint8Array(clusterSize);
  let got: Uint8Array;
  try {
    got = type === COMPRESSION_DEFLATE ? inflateSync(data, { out }) : zstdDecompress(zstdFrame(data), out);
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

/**
 * The first zstd frame of `data` (RFC 8878, section 3.1.1): qcow2 stores one
 * frame followed by padding up to a sector boundary, which a zstd decoder
 * would otherwise read as a further, invalid frame.
 */
function zstdFrame(data: Uint8Array): Uint8Array {
  const bad = () => new CorruptDataError("qcow2: compressed cluster is not a zstd frame");
  if (data.length < 6 || data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd)
    throw bad();
  const fhd = data[4];
  const singleSegment = (fhd >> 5) & 1;
  const fcsBytes = [singleSegment, 2, 4, 8][fhd >> 6];
  let off = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3] + fcsBytes;
  for (;;) {
    if (off + 3 > data.length) throw bad();
    const bh = data[off] | (data[off + 1] << 8) | (data[off + 2] << 16);
    const blockType = (bh >> 1) & 3;
    if (blockType === 3) throw bad();
    off += 3 + (blockType === 1 ? 1 : bh >>> 3);
    if (bh & 1) break;
  }
  if ((fhd >> 2) & 1) off += 4;
  if (off > data.length) throw bad();
  return data.subarray(0, off);
}

let zstdEncoder: Promise<{ compress(data: Uint8Array, level?: number): Uint8Array }> | undefined;

/**
 * The built-in compressor, on the calling thread: fflate at level 6 for
 * deflate, zstd level 3 (QEMU's defaults for both).
 */
export const defaultCompressor: Compressor = {
  algorithms: ["deflate", "zstd"],
  async compress(algorithm, data) {
    if (algorithm === "deflate") return deflateSync(data, { level: 6 });
    zstdEncoder ??= import("@hpcc-js/wasm-zstd").then((m) => m.Zstd.load());
    return (await zstdEncoder).compress(data, 3);
  },
};
