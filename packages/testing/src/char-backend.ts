/**
 * MemoryCharBackend: an in-memory {@link CharBackend} that captures device
 * output and queues test input.
 *
 * Input pushed with `push` stays queued until the device calls `read`, which is
 * how back-pressure looks from the device side; `onReadable` listeners are
 * called synchronously after each non-empty push. Strings are converted one
 * character per byte (Latin-1), so they must not contain characters above
 * U+00FF; `outputText` decodes output the same way.
 */
import { type CharBackend, InvalidArgumentError } from "@backplane/core";

function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new InvalidArgumentError(`character U+${code.toString(16)} does not fit a byte`);
    bytes[i] = code;
  }
  return bytes;
}

export class MemoryCharBackend implements CharBackend {
  private out: number[] = [];
  private input: number[] = [];
  private readonly listeners = new Set<() => void>();

  write(data: Uint8Array): void {
    for (const b of data) this.out.push(b);
  }

  read(into: Uint8Array): number {
    const n = Math.min(into.length, this.input.length);
    into.set(this.input.splice(0, n));
    return n;
  }

  onReadable(listener: () => void): () => void {
    const wrapped = () => listener();
    this.listeners.add(wrapped);
    return () => {
      this.listeners.delete(wrapped);
    };
  }

  /** Queues input for the device and notifies `onReadable` listeners. */
  push(data: Uint8Array | string): void {
    const bytes = typeof data === "string" ? latin1Bytes(data) : data;
    if (bytes.length === 0) return;
    for (const b of bytes) this.input.push(b);
    for (const listener of [...this.listeners]) listener();
  }

  /** Input bytes not yet read by the device. */
  get pendingInput(): number {
    return this.input.length;
  }

  /** Number of registered `onReadable` listeners. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Everything the device wrote so far. */
  get output(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  /** Everything the device wrote so far, one character per byte. */
  get outputText(): string {
    let text = "";
    for (const b of this.out) text += String.fromCharCode(b);
    return text;
  }

  /** Returns the output so far and forgets it. */
  takeOutput(): Uint8Array {
    const taken = Uint8Array.from(this.out);
    this.out = [];
    return taken;
  }
}
