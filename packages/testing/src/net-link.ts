/**
 * An in-memory Ethernet cable: two {@link NetBackend} endpoints where a frame
 * sent on one is delivered, synchronously and as a copy, to the receivers of
 * the other. Each endpoint records the frames it sent. A frame sent while the
 * far end has no receiver is dropped and counted, like a frame on an
 * unplugged cable.
 */
import type { NetBackend } from "@backplane/core";

export class MemoryNetEndpoint implements NetBackend {
  /** Copies of every frame sent from this endpoint, oldest first. */
  readonly sent: Uint8Array[] = [];
  /** Frames sent from this endpoint that no receiver took. */
  dropped = 0;
  private readonly receivers = new Set<(frame: Uint8Array) => void>();
  private peer: MemoryNetEndpoint | undefined;

  /** Connects two endpoints; use {@link createNetLink}. */
  static connect(a: MemoryNetEndpoint, b: MemoryNetEndpoint): void {
    a.peer = b;
    b.peer = a;
  }

  send(frame: Uint8Array): void {
    this.sent.push(frame.slice());
    const receivers = this.peer ? [...this.peer.receivers] : [];
    if (receivers.length === 0) {
      this.dropped++;
      return;
    }
    for (const receive of receivers) receive(frame.slice());
  }

  onReceive(listener: (frame: Uint8Array) => void): () => void {
    const wrapped = (frame: Uint8Array) => listener(frame);
    this.receivers.add(wrapped);
    return () => {
      this.receivers.delete(wrapped);
    };
  }
}

/** Returns the two ends of a new link. */
export function createNetLink(): [MemoryNetEndpoint, MemoryNetEndpoint] {
  const a = new MemoryNetEndpoint();
  const b = new MemoryNetEndpoint();
  MemoryNetEndpoint.connect(a, b);
  return [a, b];
}
