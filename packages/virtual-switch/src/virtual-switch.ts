/**
 * A learning Ethernet switch (IEEE 802.1D transparent bridging, 7.7-7.8 in
 * its simplest form): each port is a `NetBackend` a NIC plugs into. The switch
 * learns which port each source MAC address lives behind, forwards unicast
 * frames to the learned port, and floods broadcast, multicast and unknown
 * destinations to every other port. Learned entries age out after a number of
 * forwarded frames (no clock is needed). Frames are delivered synchronously.
 * Deviation: no spanning tree, VLANs or rate limits.
 */
import type { NetBackend } from "@backplane/core";

const ETH_HEADER = 14;

export interface VirtualSwitchOptions {
  /** Forwarded frames after which an unrefreshed MAC entry is forgotten (default 100000). */
  ageFrames?: number;
}

const macKey = (frame: Uint8Array, offset: number): string =>
  Array.from(frame.subarray(offset, offset + 6), (b) => b.toString(16).padStart(2, "0")).join(":");

class SwitchPort implements NetBackend {
  readonly receivers = new Set<(frame: Uint8Array) => void>();

  constructor(
    private readonly owner: VirtualSwitch,
    readonly id: number,
  ) {}

  send(frame: Uint8Array): void {
    this.owner.forward(this, frame);
  }

  onReceive(listener: (frame: Uint8Array) => void): () => void {
    this.receivers.add(listener);
    return () => {
      this.receivers.delete(listener);
    };
  }

  deliver(frame: Uint8Array): void {
    for (const r of this.receivers) r(frame.slice());
  }
}

export class VirtualSwitch {
  private readonly ports = new Set<SwitchPort>();
  private readonly table = new Map<string, { port: SwitchPort; seen: number }>();
  private readonly ageFrames: number;
  private nextId = 0;
  private clock = 0;
  /** Frames forwarded to a learned port, flooded, and dropped as runts. */
  readonly stats = { unicast: 0, flooded: 0, runts: 0 };

  constructor(options: VirtualSwitchOptions = {}) {
    this.ageFrames = options.ageFrames ?? 100_000;
  }

  /** Adds a port and returns its NetBackend, to give to a NIC. */
  connect(): NetBackend & { disconnect(): void } {
    const port = new SwitchPort(this, this.nextId++);
    this.ports.add(port);
    return Object.assign(port, { disconnect: () => this.disconnect(port) });
  }

  private disconnect(port: SwitchPort): void {
    this.ports.delete(port);
    for (const [mac, entry] of this.table) if (entry.port === port) this.table.delete(mac);
  }

  /** Port a MAC address was learned on, for diagnostics. */
  portOf(mac: string): number | undefined {
    return this.table.get(mac.toLowerCase())?.port.id;
  }

  /** @internal Called by a port when its NIC sends. */
  forward(from: SwitchPort, frame: Uint8Array): void {
    if (!this.ports.has(from)) return;
    if (frame.length < ETH_HEADER) {
      this.stats.runts++;
      return;
    }
    this.clock++;
    const src = macKey(frame, 6);
    if (!(frame[6] & 1)) this.table.set(src, { port: from, seen: this.clock });
    const entry = frame[0] & 1 ? undefined : this.table.get(macKey(frame, 0));
    if (entry && this.clock - entry.seen <= this.ageFrames && this.ports.has(entry.port)) {
      if (entry.port !== from) entry.port.deliver(frame);
      this.stats.unicast++;
      return;
    }
    this.stats.flooded++;
    for (const port of this.ports) if (port !== from) port.deliver(frame);
  }
}
