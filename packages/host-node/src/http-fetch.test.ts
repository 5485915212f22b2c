import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NetworkError } from "@backplane/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DownloadProgress, httpGet } from "./http-fetch.js";

const body = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/chunked") {
      // No Content-Length: the body arrives in pieces of unknown total size.
      res.writeHead(200);
      for (let at = 0; at < body.length; at += 70_000) res.write(body.subarray(at, at + 70_000));
      res.end();
    } else if (req.url === "/file") {
      res.writeHead(200, { "content-length": String(body.length) });
      res.end(body);
    } else {
      res.writeHead(404, "Not Found");
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("httpGet", () => {
  it("returns the body and reports progress up to Content-Length", async () => {
    const seen: DownloadProgress[] = [];
    expect(await httpGet(`${base}/file`, { onProgress: (p) => seen.push(p) })).toEqual(body);
    expect(seen.at(-1)).toEqual({
      url: `${base}/file`,
      received: body.length,
      total: body.length,
      done: true,
    });
    const received = seen.map((p) => p.received);
    expect(received).toEqual([...received].sort((a, b) => a - b));
  });

  it("collects a body sent without Content-Length", async () => {
    const seen: DownloadProgress[] = [];
    expect(await httpGet(`${base}/chunked`, { onProgress: (p) => seen.push(p) })).toEqual(body);
    expect(seen.every((p) => p.total === undefined)).toBe(true);
  });

  it("names the URL and HTTP status of a failed request", async () => {
    const err = await httpGet(`${base}/missing`).catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.status).toBe(404);
    expect(err.message).toBe(`${base}/missing: HTTP 404 Not Found`);
  });

  it("reports an unreachable mirror with the system error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(httpGet(`http://127.0.0.1:${port}/x`)).rejects.toThrow(
      `http://127.0.0.1:${port}/x: mirror unreachable (ECONNREFUSED)`,
    );
  });
});
