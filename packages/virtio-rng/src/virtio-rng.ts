/**
 * virtio-rng device logic (virtio 1.2, 5.4): one request queue whose
 * device-writable buffers the device fills with entropy. The entropy source is
 * injected; by default it is the host's cryptographic generator through the
 * Web Crypto API (`crypto.getRandomValues`, present in browsers and Node 20).
 */
import type { NarrowWidth } from "@backplane/core";
import type { VirtioDevice, VirtioDeviceContext } from "@backplane/virtio";

export const VIRTIO_ID_ENTROPY = 4;
/** Largest block handed to `getRandomValues` at once (its per-call limit). */
const CHUNK = 65536;

export type EntropySource = (into: Uint8Array<ArrayBuffer>) => void;

export interface VirtioRngOptions {
  /** Fills a buffer with random bytes; defaults to `crypto.getRandomValues`. */
  entropy?: EntropySource;
  /** Caps the bytes returned per request (default 64 KiB). */
  maxBytesPerRequest?: number;
}

const hostEntropy: EntropySource = (into) => {
  for (let o = 0; o < into.length; o += CHUNK) crypto.getRandomValues(into.subarray(o, o + CHUNK));
};

export class VirtioRng implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_ENTROPY;
  readonly features = 0n;
  readonly queueMaxSizes = [64];
  readonly configSize = 0;
  private readonly entropy: EntropySource;
  private readonly maxBytes: number;
  private context: VirtioDeviceContext | undefined;

  constructor(options: VirtioRngOptions = {}) {
    this.entropy = options.entropy ?? hostEntropy;
    this.maxBytes = options.maxBytesPerRequest ?? CHUNK;
  }

  readConfig(_offset: number, _width: NarrowWidth): number {
    return 0;
  }

  writeConfig(): void {}

  activate(context: VirtioDeviceContext): void {
    this.context = context;
  }

  reset(): void {
    this.context = undefined;
  }

  queueNotify(index: number): void {
    const ctx = this.context;
    if (!ctx || index !== 0) return;
    for (let chain = ctx.pop(0); chain; chain = ctx.pop(0)) {
      const bytes = new Uint8Array(Math.min(chain.writableLength, this.maxBytes));
      this.entropy(bytes);
      ctx.complete(0, chain, chain.write(ctx.memory, 0, bytes));
    }
  }
}
