/**
 * HTTP downloads into memory with Node's built-in fetch (WHATWG Fetch over
 * undici), reporting progress as bytes arrive.
 *
 * Failures become a NetworkError naming the URL and the cause: an HTTP
 * status other than 2xx, or the mirror being unreachable (DNS failure,
 * refused or reset connection, with the system error code).
 * Left out: retries, resuming partial downloads, proxies beyond what fetch
 * itself honours.
 */
import { NetworkError } from "@backplane/core";

/** Progress of one download; `total` is undefined without a Content-Length. */
export interface DownloadProgress {
  url: string;
  received: number;
  total: number | undefined;
  done: boolean;
}

export interface HttpGetOptions {
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return `mirror unreachable (${detail})`;
}

function isStaleConnection(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  return code === "ECONNRESET" || code === "UND_ERR_SOCKET";
}

/** GETs `url` and returns the whole body. */
export async function httpGet(url: string, options: HttpGetOptions = {}): Promise<Uint8Array> {
  let response: Response | undefined;
  for (let attempt = 1; !response; attempt++) {
    try {
      response = await fetch(url, { signal: options.signal });
    } catch (err) {
      // A kept-alive connection the server closed just as it was reused: GET is idempotent, ask again once.
      if (attempt === 1 && isStaleConnection(err)) continue;
      throw new NetworkError(url, describeCause(err), undefined, { cause: err });
    }
  }
  if (!response.ok || !response.body) {
    throw new NetworkError(url, `HTTP ${response.status} ${response.statusText}`.trimEnd(), response.status);
  }
  const length = Number(response.headers.get("content-length"));
  const total = Number.isSafeInteger(length) && length > 0 ? length : undefined;
  // Sized from Content-Length up front (one copy of a 100 MiB package, not two); grows if needed.
  let body = new Uint8Array(total ?? 0);
  let received = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.length > body.length) {
        const grown = new Uint8Array(Math.max(body.length * 2, received + value.length));
        grown.set(body.subarray(0, received));
        body = grown;
      }
      body.set(value, received);
      received += value.length;
      options.onProgress?.({ url, received, total, done: false });
    }
  } catch (err) {
    throw new NetworkError(
      url,
      `download interrupted after ${received} bytes (${describeCause(err)})`,
      response.status,
      {
        cause: err,
      },
    );
  }
  options.onProgress?.({ url, received, total, done: true });
  return received === body.length ? body : body.subarray(0, received);
}
