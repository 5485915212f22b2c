/**
 * The process's standard input and output as a `CharBackend`, for a guest
 * console (`-serial stdio`). When stdin is a terminal it is put in raw mode
 * and, like QEMU's `-nographic` console, Ctrl-A is an escape key:
 * Ctrl-A x quits, Ctrl-A h prints the key list, Ctrl-A Ctrl-A sends one
 * Ctrl-A to the guest. Input waits in a queue until the device reads it;
 * reading from stdin pauses while the queue is full (back-pressure).
 */
import type { CharBackend } from "@backplane/core";

/** Options for {@link StdioCharBackend}. */
export interface StdioOptions {
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
  /** Called for Ctrl-A x (terminal only). */
  onQuit?: () => void;
  /** Queue size at which stdin is paused (default 4096 bytes). */
  highWaterMark?: number;
}

const CTRL_A = 0x01;
const HELP = "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a C-a  sends C-a\r\n";

export class StdioCharBackend implements CharBackend {
  private readonly input: NodeJS.ReadStream;
  private readonly output: NodeJS.WriteStream;
  private readonly onQuit: () => void;
  private readonly highWaterMark: number;
  private readonly listeners = new Set<() => void>();
  private queue: number[] = [];
  private escape = false;
  private readonly raw: boolean;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  constructor(options: StdioOptions = {}) {
    this.input = options.input ?? process.stdin;
    this.output = options.output ?? process.stdout;
    this.onQuit = options.onQuit ?? (() => {});
    this.highWaterMark = options.highWaterMark ?? 4096;
    this.raw = this.input.isTTY === true;
    if (this.raw) this.input.setRawMode(true);
    this.input.on("data", this.onData);
    this.input.resume();
  }

  write(data: Uint8Array): void {
    this.output.write(data);
  }

  read(into: Uint8Array): number {
    const n = Math.min(into.length, this.queue.length);
    for (let i = 0; i < n; i++) into[i] = this.queue[i];
    this.queue = this.queue.slice(n);
    if (this.input.isPaused() && this.queue.length < this.highWaterMark) this.input.resume();
    return n;
  }

  onReadable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Restores the terminal and stops reading stdin. */
  close(): void {
    this.input.off("data", this.onData);
    if (this.raw) this.input.setRawMode(false);
    this.input.pause();
  }

  private receive(chunk: Buffer): void {
    const before = this.queue.length;
    for (const byte of chunk) {
      if (!this.raw) this.queue.push(byte);
      else if (this.escape) {
        this.escape = false;
        if (byte === 0x78)
          this.onQuit(); // x
        else if (byte === 0x68)
          this.output.write(HELP); // h
        else if (byte === CTRL_A) this.queue.push(CTRL_A);
      } else if (byte === CTRL_A) this.escape = true;
      else this.queue.push(byte);
    }
    if (this.queue.length >= this.highWaterMark) this.input.pause();
    if (this.queue.length > before) for (const l of this.listeners) l();
  }
}
