// Test-only: lists a newc archive with cpio-stream, an independent reader.
import { Readable } from "node:stream";
// @ts-expect-error cpio-stream ships no types
import cpio from "cpio-stream";

export interface PeerEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  ino: number;
  rdev: [number, number];
  linkname?: string;
  data: Uint8Array;
}

export function listCpio(bytes: Uint8Array): Promise<PeerEntry[]> {
  return new Promise((resolve, reject) => {
    const out: PeerEntry[] = [];
    const extract = cpio.extract();
    // biome-ignore lint/suspicious/noExplicitAny: untyped peer library
    extract.on("entry", (h: any, stream: Readable, next: () => void) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        out.push({
          name: h.name,
          type: h.type,
          mode: h.mode & 0o7777,
          uid: h.uid,
          gid: h.gid,
          nlink: h.nlink,
          mtime: h.mtime.getTime() / 1000,
          ino: h.ino,
          rdev: [h.rdevmajor, h.rdevminor],
          linkname: h.linkname,
          data: new Uint8Array(Buffer.concat(chunks)),
        });
        next();
      });
      stream.resume();
    });
    extract.on("finish", () => resolve(out));
    extract.on("error", reject);
    Readable.from([Buffer.from(bytes)]).pipe(extract);
  });
}
