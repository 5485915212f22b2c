/**
 * A `NetBackend` on a TCP stream in QEMU's socket-netdev framing
 * (`-netdev socket,listen=...|connect=...`, QEMU 7.2 net/socket.c and
 * docs/system/invocation.rst): every Ethernet frame travels as a 4-byte
 * big-endian length followed by the frame bytes, with no virtio-net header.
 * So a Backplane VM can be cabled to another one or to a QEMU VM.
 *
 * A listening backend serves one peer at a time and listens again when the
 * peer goes away (further peers are refused meanwhile); a connecting backend
 * connects once. Frames sent while no peer is connected are dropped, as on a
 * cable with nothing plugged in.
 *
 * Deviation: a frame announced longer than QEMU's receive buffer (69632
 * bytes) ends the connection (QEMU reports the same error and drops the
 * peer); UDP multicast (`mcast=`) and `fd=` are not supported.
 */
import { createServer, type Server, Socket } from "node:net";
import type { NetBackend } from "@backplane/core";
import { NetworkError } from "@backplane/core";

/** Longest frame QEMU's socket netdev accepts (NET_BUFSIZE: 4096 + 65536). */
export const SOCKET_NET_MAX_FRAME = 69632;

/** Optional observers of a socket backend. */
export interface SocketNetHooks {
  /** A peer connected. */
  onConnect?(): void;
  /** The peer went away (or was dropped for breaking the framing). */
  onDisconnect?(reason?: Error): void;
}

/** A cable to a peer VM over TCP. */
export class SocketNetBackend implements NetBackend {
  readonly #listeners = new Set<(frame: Uint8Array) => void>();
  readonly #hooks: SocketNetHooks;
  #server: Server | undefined;
  #peer: Socket | undefined;
  #pending = Buffer.alloc(0);

  private constructor(hooks: SocketNetHooks) {
    this.#hooks = hooks;
  }

  /** Listens on `host:port` (port 0 picks a free one, see {@link port}). */
  static listen(host: string, port: number, hooks: SocketNetHooks = {}): Promise<SocketNetBackend> {
    const backend = new SocketNetBackend(hooks);
    const server = createServer((socket) => {
      if (backend.#peer) socket.destroy();
      else backend.#attach(socket);
    });
    backend.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", (err) =>
        reject(new NetworkError(`${host}:${port}`, err.message, undefined, { cause: err })),
      );
      server.listen(port, host, () => resolve(backend));
    });
  }

  /** Connects to a listening peer at `host:port`. */
  static connect(host: string, port: number, hooks: SocketNetHooks = {}): Promise<SocketNetBackend> {
    const backend = new SocketNetBackend(hooks);
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once("error", (err) =>
        reject(new NetworkError(`${host}:${port}`, err.message, undefined, { cause: err })),
      );
      socket.connect(port, host, () => {
        socket.removeAllListeners("error");
        backend.#attach(socket);
        resolve(backend);
      });
    });
  }

  /** Wraps an already connected socket (one accepted by a server of your own, e.g. a switch). */
  static fromSocket(socket: Socket, hooks: SocketNetHooks = {}): SocketNetBackend {
    const backend = new SocketNetBackend(hooks);
    backend.#attach(socket);
    return backend;
  }

  /** The listening port (for `listen` with port 0); undefined for a connecting backend. */
  get port(): number | undefined {
    const address = this.#server?.address();
    return typeof address === "object" && address ? address.port : undefined;
  }

  /** True while a peer is connected. */
  get connected(): boolean {
    return this.#peer !== undefined;
  }

  send(frame: Uint8Array): void {
    const peer = this.#peer;
    if (!peer) return;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(frame.length);
    peer.write(Buffer.concat([header, frame]));
  }

  onReceive(listener: (frame: Uint8Array) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Disconnects the peer and stops listening. */
  close(): Promise<void> {
    this.#peer?.destroy();
    const server = this.#server;
    this.#server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  #attach(socket: Socket): void {
    this.#peer = socket;
    this.#pending = Buffer.alloc(0);
    socket.setNoDelay(true);
    let reason: Error | undefined;
    socket.on("data", (chunk: Buffer) => {
      const error = this.#receive(chunk);
      if (error) {
        reason = error;
        socket.destroy();
      }
    });
    socket.on("error", (err) => {
      reason = err;
    });
    socket.on("close", () => {
      if (this.#peer === socket) this.#peer = undefined;
      this.#hooks.onDisconnect?.(reason);
    });
    this.#hooks.onConnect?.();
  }

  /** Splits the stream into frames; returns an error when the peer breaks the framing. */
  #receive(chunk: Buffer): Error | undefined {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (buf.length >= 4) {
      const length = buf.readUInt32BE(0);
      if (length > SOCKET_NET_MAX_FRAME) {
        return new Error(`peer announced a ${length}-byte frame (at most ${SOCKET_NET_MAX_FRAME})`);
      }
      if (buf.length < 4 + length) break;
      const frame = new Uint8Array(buf.subarray(4, 4 + length));
      buf = buf.subarray(4 + length);
      for (const listener of this.#listeners) listener(frame);
    }
    this.#pending = Buffer.from(buf);
    return undefined;
  }
}
