/**
 * Streaming decompression of the formats found in Debian archives and indexes.
 *
 * Formats are recognised by their magic bytes: gzip (RFC 1952, via fflate),
 * xz (the .xz file format 1.2.1, via the xz-decompress WebAssembly build) and
 * uncompressed data. Everything works on web streams, so it runs in Node and
 * in browsers alike.
 * Left out: zstd and bzip2 (reported as unsupported; the Debian packages this
 * project reads use xz, and the indexes are fetched as .xz or .gz).
 */
import { BackplaneError, CorruptDataError, UnsupportedError } from "@backplane/core";
import { Gunzip } from "fflate";
import * as xzModule from "xz-decompress";

/** Compression formats recognised by {@link detectCompression}. */
export type Compression = "gzip" | "xz" | "zstd" | "bzip2" | "none";

// xz-decompress is CommonJS without named-export hints: Node's ESM loader
// exposes it only as `default`, bundlers expose the named class directly.
const XzReadableStream =
  xzModule.XzReadableStream ?? (xzModule as unknown as { default: typeof xzModule }).default.XzReadableStream;

const CHUNK = 1 << 20;

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** Identifies the compression of `head` (the first few bytes of a file). */
export function detectCompression(head: Uint8Array): Compression {
  if (startsWith(head, [0x1f, 0x8b])) return "gzip";
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz";
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return "zstd";
  if (startsWith(head, [0x42, 0x5a, 0x68])) return "bzip2";
  return "none";
}

/** A stream that yields `bytes` in 1 MiB slices (views, no copies). */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(offset, offset + CHUNK));
      offset += CHUNK;
    },
  });
}

function gunzipStream(input: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let out: TransformStreamDefaultController<Uint8Array>;
  const gunzip = new Gunzip((chunk) => out.enqueue(chunk));
  return input.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start(controller) {
        out = controller;
      },
      transform(chunk) {
        gunzip.push(chunk);
      },
      flush() {
        gunzip.push(new Uint8Array(0), true);
      },
    }),
  );
}

/** Re-throws any failure of `inner` as a CorruptDataError naming `what`. */
function reportingAs(inner: ReadableStream<Uint8Array>, what: string): ReadableStream<Uint8Array> {
  const reader = inner.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        if (err instanceof BackplaneError) throw err;
        throw new CorruptDataError(`${what}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
    },
    async cancel(reason) {
      // xz-decompress throws when cancelled after its decoder has finished (e.g.
      // a tar reader stopping at the end-of-archive blocks, before the stream's
      // end); the consumer no longer wants the data either way.
      await reader.cancel(reason).catch(() => {});
    },
  });
}

/**
 * Decompresses `bytes` as a stream, choosing the format from its magic bytes.
 * `what` names the input in error messages (e.g. "data.tar.xz of busybox-static").
 */
export function decompressStream(bytes: Uint8Array, what = "input"): ReadableStream<Uint8Array> {
  const format = detectCompression(bytes.subarray(0, 8));
  switch (format) {
    case "none":
      return streamOf(bytes);
    case "gzip":
      return reportingAs(gunzipStream(streamOf(bytes)), `${what}: gzip`);
    case "xz":
      return reportingAs(new XzReadableStream(streamOf(bytes)), `${what}: xz`);
    default:
      throw new UnsupportedError(`${what}: ${format} compression is not supported`);
  }
}

/** Reads a stream to its end and joins the chunks. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Decompresses `bytes` completely (see {@link decompressStream}). */
export function decompress(bytes: Uint8Array, what = "input"): Promise<Uint8Array> {
  return readAll(decompressStream(bytes, what));
}
