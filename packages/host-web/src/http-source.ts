/**
 * A read-only `ByteSource` over HTTP range requests (RFC 9110, 14: Range,
 * 206 Partial Content, Content-Range), for opening disk images that live on a
 * web server without downloading them. Reads are served in aligned blocks
 * through a small LRU cache so a format driver's many small metadata reads
 * cost few requests. Uses only `fetch`, so it runs in browsers and in Node 20.
 *
 * Put a `CowOverlay` (from `@backplane/disk`) on top to give a guest a
 * writable disk whose writes stay local. Deviation: no retries, no
 * revalidation (the image must not change while open: the first response's
 * ETag is sent as If-Range, and a changed image fails the read).
 */
import {
  CorruptDataError,
  InvalidArgumentError,
  NetworkError,
  ReadOnlyError,
  UnsupportedError,
} from "@backplane/core";
import type { ByteSource } from "@backplane/disk";

export interface HttpByteSourceOptions {
  /** Bytes fetched per request and cached per entry (default 256 KiB; a power of two). */
  blockSize?: number;
  /** Cached blocks (default 64, i.e. 16 MiB with the default block size). */
  cacheBlocks?: number;
  /** Extra request headers (authorization, ...). */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** Opens `url` as a read-only byte source; fails if the server does not serve byte ranges. */
export async function openHttpByteSource(
  url: string,
  options: HttpByteSourceOptions = {},
): Promise<HttpByteSource> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { headers: { ...options.headers, range: "bytes=0-0" } });
  } catch (err) {
    throw new NetworkError(url, `unreachable (${(err as Error).message})`, undefined, { cause: err });
  }
  await response.body?.cancel();
  if (response.status === 200) {
    throw new UnsupportedError(
      `${url}: the server ignores range requests, so the image cannot be opened in place`,
    );
  }
  if (response.status !== 206)
    throw new NetworkError(url, `HTTP ${response.status} ${response.statusText}`.trimEnd(), response.status);
  const total = /\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "")?.[1];
  if (total === undefined)
    throw new CorruptDataError(`${url}: 206 response without a complete Content-Range`);
  return new HttpByteSource(url, Number(total), response.headers.get("etag") ?? undefined, options);
}

export class HttpByteSource implements ByteSource {
  readonly readOnly = true;
  /** Requests made so far (for diagnostics and tests). */
  requests = 0;
  private readonly blockSize: number;
  private readonly cacheBlocks: number;
  private readonly headers: Record<string, string>;
  private readonly doFetch: typeof fetch;
  private readonly cache = new Map<number, Promise<Uint8Array>>();

  constructor(
    readonly name: string,
    private readonly length: number,
    private readonly etag: string | undefined,
    options: HttpByteSourceOptions = {},
  ) {
    this.blockSize = options.blockSize ?? 256 * 1024;
    if (this.blockSize <= 0 || (this.blockSize & (this.blockSize - 1)) !== 0) {
      throw new InvalidArgumentError(`HTTP block size ${this.blockSize} is not a power of two`);
    }
    this.cacheBlocks = Math.max(1, options.cacheBlocks ?? 64);
    this.headers = options.headers ?? {};
    this.doFetch = options.fetch ?? fetch;
  }

  async size(): Promise<number> {
    return this.length;
  }

  async read(offset: number, dest: Uint8Array): Promise<number> {
    const end = Math.min(offset + dest.length, this.length);
    let pos = offset;
    while (pos < end) {
      const index = Math.floor(pos / this.blockSize);
      const block = await this.block(index);
      const from = pos - index * this.blockSize;
      const n = Math.min(block.length - from, end - pos);
      if (n <= 0) break;
      dest.set(block.subarray(from, from + n), pos - offset);
      pos += n;
    }
    return Math.max(0, pos - offset);
  }

  private block(index: number): Promise<Uint8Array> {
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index); // re-insert: Map order is the LRU order
      this.cache.set(index, hit);
      return hit;
    }
    const pending = this.fetchBlock(index);
    pending.catch(() => this.cache.delete(index));
    this.cache.set(index, pending);
    while (this.cache.size > this.cacheBlocks) this.cache.delete(this.cache.keys().next().value as number);
    return pending;
  }

  private async fetchBlock(index: number): Promise<Uint8Array> {
    const first = index * this.blockSize;
    const last = Math.min(first + this.blockSize, this.length) - 1;
    const headers: Record<string, string> = { ...this.headers, range: `bytes=${first}-${last}` };
    if (this.etag) headers["if-range"] = this.etag;
    this.requests++;
    let response: Response;
    try {
      response = await this.doFetch(this.name, { headers });
    } catch (err) {
      throw new NetworkError(this.name, `unreachable (${(err as Error).message})`, undefined, { cause: err });
    }
    if (response.status !== 206) {
      await response.body?.cancel();
      const why = response.status === 200 ? "the image changed on the server" : `HTTP ${response.status}`;
      throw new NetworkError(this.name, `range ${first}-${last}: ${why}`, response.status);
    }
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length !== last - first + 1) {
      throw new CorruptDataError(`${this.name}: range ${first}-${last} returned ${body.length} bytes`);
    }
    return body;
  }

  async write(): Promise<void> {
    throw new ReadOnlyError(`${this.name} is read-only (HTTP); put a CowOverlay on top to write`);
  }

  async truncate(): Promise<void> {
    throw new ReadOnlyError(`${this.name} is read-only (HTTP)`);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.cache.clear();
  }
}
