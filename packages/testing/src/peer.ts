/**
 * Replays a recorded peer script (a list of MMIO accesses whose answers were
 * recorded on QEMU by `peer/record-qemu.mjs`) against device models, so a
 * test can compare every read with the peer's answer.
 *
 * Script ops: `["w", addr, width, value]`, `["r", addr, width]` (recorded),
 * `["r", addr, width, "varies"]` (recorded but time-dependent: not compared)
 * and `["mip"]` (the hart's mip CSR, recorded). Addresses and values are
 * numbers or hex strings; 8-byte accesses use `read64`/`write64` when the
 * device has them, otherwise two 4-byte accesses, low half first.
 */
import { InvalidArgumentError, type MmioDevice } from "@backplane/core";

/** One access of a peer script. */
export type PeerOp =
  | readonly ["w", number | string, number, number | string]
  | readonly ["r", number | string, number, ...string[]]
  | readonly ["mip"];

/** A peer script with the peer's answers, as `record-qemu.mjs` writes it. */
export interface PeerFixture {
  readonly description: string;
  readonly ops: readonly PeerOp[];
  /** One hex string per recorded op, in order. */
  readonly results: readonly string[];
  /** The peer's version string. */
  readonly peer: string;
  /** False when the script powered the machine off before its end. */
  readonly finished?: boolean;
  /** The peer process's exit status. */
  readonly exitStatus?: number;
}

/** A device mapped at a guest-physical base address. */
export interface MappedDevice {
  readonly base: number;
  readonly device: MmioDevice;
}

/** One recorded op with both answers. */
export interface PeerRow {
  /** Position among recorded results. */
  readonly index: number;
  readonly op: PeerOp;
  readonly peer: string;
  readonly ours: string;
  /** The op is marked time-dependent: the answers need not match. */
  readonly varies: boolean;
}

const hex = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;

/** Runs the fixture's ops against `devices` and pairs every recorded answer with ours. */
export function replayPeerFixture(
  fixture: PeerFixture,
  devices: readonly MappedDevice[],
  mip: () => bigint = () => 0n,
): PeerRow[] {
  const find = (addr: number, width: number) => {
    const hit = devices.find((d) => addr >= d.base && addr + width <= d.base + d.device.size);
    if (hit === undefined) throw new InvalidArgumentError(`no device at 0x${addr.toString(16)}`);
    return { device: hit.device, offset: addr - hit.base };
  };
  const rows: PeerRow[] = [];
  for (const op of fixture.ops) {
    if (op[0] === "w") {
      const { device, offset } = find(Number(op[1]), op[2]);
      const value = BigInt(op[3]);
      if (op[2] === 8) {
        if (device.write64) device.write64(offset, value);
        else {
          device.write(offset, 4, Number(value & 0xffff_ffffn));
          device.write(offset + 4, 4, Number(value >> 32n));
        }
      } else {
        device.write(offset, op[2] as 1 | 2 | 4, Number(value));
      }
      continue;
    }
    let ours: bigint;
    let varies = false;
    if (op[0] === "mip") {
      ours = mip();
    } else {
      const { device, offset } = find(Number(op[1]), op[2]);
      varies = op[3] === "varies";
      if (op[2] === 8) {
        ours = device.read64
          ? device.read64(offset)
          : BigInt(device.read(offset, 4)) | (BigInt(device.read(offset + 4, 4)) << 32n);
      } else {
        ours = BigInt(device.read(offset, op[2] as 1 | 2 | 4));
      }
    }
    const index = rows.length;
    const peer = fixture.results[index];
    if (peer === undefined) throw new InvalidArgumentError(`fixture has no result ${index}`);
    rows.push({ index, op, peer, ours: hex(ours), varies });
  }
  if (rows.length !== fixture.results.length) {
    throw new InvalidArgumentError(`fixture has ${fixture.results.length} results for ${rows.length} reads`);
  }
  return rows;
}

/** The rows whose answers differ and are not marked time-dependent. */
export function peerMismatches(rows: readonly PeerRow[]): { index: number; peer: string; ours: string }[] {
  return rows
    .filter((r) => !r.varies && r.peer !== r.ours)
    .map(({ index, peer, ours }) => ({ index, peer, ours }));
}
