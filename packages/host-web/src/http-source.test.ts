import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkError, ReadOnlyError, UnsupportedError } from "@backplane/core";
import { CowOverlay } from "@backplane/disk";
import { qcow2 } from "@backplane/disk-qcow2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openHttpByteSource } from "./http-source.js";

const files = new Map<string, { data: Uint8Array; etag: string }>();
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const [path, mode] = (req.url ?? "").split("?");
    const file = files.get(path);
    if (!file) {
      res.writeHead(404, "Not Found").end();
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    const stale = req.headers["if-range"] !== undefined && req.headers["if-range"] !== file.etag;
    if (!range || mode === "norange" || stale) {
      res.writeHead(200, { "content-length": file.data.length, etag: file.etag }).end(file.data);
      return;
    }
    const first = Number(range[1]);
    const last = Math.min(Number(range[2]), file.data.length - 1);
    res
      .writeHead(206, { "content-range": `bytes ${first}-${last}/${file.data.length}`, etag: file.etag })
      .end(file.data.subarray(first, last + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const pattern = (n: number) => new Uint8Array(n).map((_, i) => (i * 131 + (i >> 8)) & 0xff);

describe("HttpByteSource (RFC 9110 range requests)", () => {
  it("reads any range byte-exactly, in cached blocks", async () => {
    const data = pattern(100_000);
    files.set("/disk.img", { data, etag: '"v1"' });
    const src = await openHttpByteSource(`${base}/disk.img`, { blockSize: 4096, cacheBlocks: 8 });
    expect(await src.size()).toBe(100_000);
    let seed = 7;
    for (let i = 0; i < 50; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const offset = seed % 99_000;
      const buf = new Uint8Array((seed >>> 8) % 9000);
      expect(await src.read(offset, buf)).toBe(Math.min(buf.length, 100_000 - offset));
      expect(buf.subarray(0, Math.min(buf.length, 100_000 - offset))).toEqual(
        data.subarray(offset, offset + buf.length),
      );
    }
    const before = src.requests;
    await src.read(8192, new Uint8Array(100)); // read twice: the second is a cache hit
    await src.read(8192, new Uint8Array(100));
    expect(src.requests - before).toBeLessThanOrEqual(1);
    const tail = new Uint8Array(64);
    expect(await src.read(99_990, tail)).toBe(10);
  });

  it("gives typed errors: no range support, missing file, writes, an image that changed", async () => {
    files.set("/a.img", { data: pattern(10_000), etag: '"a1"' });
    await expect(openHttpByteSource(`${base}/a.img?norange`)).rejects.toThrow(UnsupportedError);
    await expect(openHttpByteSource(`${base}/missing.img`)).rejects.toThrow(NetworkError);
    const src = await openHttpByteSource(`${base}/a.img`, { blockSize: 1024 });
    await expect(src.write()).rejects.toThrow(ReadOnlyError);
    files.set("/a.img", { data: pattern(10_000), etag: '"a2"' });
    await expect(src.read(5000, new Uint8Array(10))).rejects.toThrow(/changed on the server/);
  });

  const haveQemuImg = spawnSync("qemu-img", ["--version"]).status === 0;
  it.skipIf(!haveQemuImg)(
    "opens a qcow2 image made by qemu-img over HTTP, writable through a CowOverlay",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "host-web-"));
      const img = join(dir, "d.qcow2");
      execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", img, "4M"]);
      execFileSync("qemu-io", ["-c", "write -P 0x5a 1M 64k", "-c", "write -P 0x17 3M 4k", img], {
        stdio: "ignore",
      });
      execFileSync("qemu-img", ["convert", "-O", "raw", img, join(dir, "d.raw")]);
      const served = new Uint8Array(readFileSync(img));
      files.set("/d.qcow2", { data: served, etag: '"q"' });
      const image = await qcow2.open(await openHttpByteSource(`${base}/d.qcow2`), { readOnly: true });
      const disk = new CowOverlay(image);
      const all = new Uint8Array(disk.size);
      await disk.read(0, all);
      // Buffer.equals: vitest's deep equality is far too slow for megabytes.
      expect(Buffer.from(all).equals(readFileSync(join(dir, "d.raw")))).toBe(true);
      await disk.write(1 << 20, new Uint8Array(512).fill(0xee));
      const back = new Uint8Array(512);
      await disk.read(1 << 20, back);
      expect(back.every((b) => b === 0xee)).toBe(true);
      expect(Buffer.from(files.get("/d.qcow2")?.data ?? []).equals(readFileSync(img))).toBe(true);
    },
  );
});
