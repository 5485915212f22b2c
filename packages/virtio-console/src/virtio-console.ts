/**
 * virtio-console device logic (virtio 1.2, 5.3) for a single port without
 * VIRTIO_CONSOLE_F_MULTIPORT: receiveq0 (0) carries host input to the guest,
 * transmitq0 (1) guest output to the host, over a `CharBackend`.
 *
 * Input is pulled from the backend only when the guest has posted a receive
 * buffer (at most 4 KiB at a time), so a slow guest pushes back on the host:
 * the backend keeps what the guest has not taken. Linux binds it as /dev/hvc0.
 * Deviation: no multiport, console size or emergency write.
 */
import type { CharBackend, NarrowWidth } from "@backplane/core";
import type { VirtioDevice, VirtioDeviceContext } from "@backplane/virtio";

export const VIRTIO_ID_CONSOLE = 3;
const RECEIVEQ = 0;
const TRANSMITQ = 1;
const STAGING = 4096;

export interface VirtioConsoleOptions {
  backend: CharBackend;
}

export class VirtioConsole implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly features = 0n;
  readonly queueMaxSizes = [64, 64];
  readonly configSize = 0;
  private readonly backend: CharBackend;
  private context: VirtioDeviceContext | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Input taken from the backend for a posted buffer but not yet delivered (at most STAGING bytes). */
  private held = new Uint8Array(0);
  private readonly staging = new Uint8Array(STAGING);

  constructor(options: VirtioConsoleOptions) {
    this.backend = options.backend;
  }

  readConfig(_offset: number, _width: NarrowWidth): number {
    return 0;
  }

  writeConfig(): void {}

  activate(context: VirtioDeviceContext): void {
    this.context = context;
    this.unsubscribe = this.backend.onReadable(() => this.receive());
    this.receive();
  }

  reset(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.context = undefined;
    this.held = new Uint8Array(0);
  }

  queueNotify(index: number): void {
    if (index === RECEIVEQ) this.receive();
    else if (index === TRANSMITQ) this.transmit();
  }

  private transmit(): void {
    const ctx = this.context;
    if (!ctx) return;
    for (let chain = ctx.pop(TRANSMITQ); chain; chain = ctx.pop(TRANSMITQ)) {
      this.backend.write(chain.read(ctx.memory, 0, chain.readableLength));
      ctx.complete(TRANSMITQ, chain, 0);
    }
  }

  private receive(): void {
    const ctx = this.context;
    if (!ctx) return;
    const queue = ctx.queue(RECEIVEQ);
    while (queue.ready && queue.hasAvailable(ctx.memory)) {
      if (this.held.length === 0) {
        const n = this.backend.read(this.staging);
        if (n === 0) return; // no input: leave the guest's buffer posted
        this.held = this.staging.slice(0, n);
      }
      const chain = ctx.pop(RECEIVEQ);
      if (!chain) return;
      const n = chain.write(ctx.memory, 0, this.held);
      this.held = this.held.subarray(n);
      ctx.complete(RECEIVEQ, chain, n);
    }
  }
}
