import { FakeGuestRam, IrqRecorder, MemoryBlockBackend } from "@backplane/testing";
import * as V from "@backplane/virtio";
import { MockVirtioDriver } from "@backplane/virtio/testing";
import { describe, expect, it } from "vitest";
import * as B from "./virtio-blk.js";

const RAM_BASE = 0x8000_0000;
const DISK = 64 * 1024;

function setup(options: { readOnly?: boolean; failing?: boolean } = {}) {
  const ram = new FakeGuestRam(1 << 20, RAM_BASE);
  const disk = new Uint8Array(DISK).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
  const backend = new MemoryBlockBackend(disk.slice(), { readOnly: options.readOnly });
  if (options.failing) backend.read = () => Promise.reject(new Error("host disk gone"));
  const ioErrors: unknown[] = [];
  const blk = new B.VirtioBlk({
    backend,
    serial: "BP-SERIAL-1",
    hooks: { onIoError: (e) => ioErrors.push(e) },
  });
  const irq = new IrqRecorder();
  const transport = new V.VirtioMmioTransport({ device: blk, memory: ram, irq });
  const driver = new MockVirtioDriver(transport, ram, {
    heapBase: RAM_BASE + 0x1000,
    heapSize: (1 << 20) - 0x1000,
  });
  driver.init();
  return { ram, disk, backend, blk, driver, irq, ioErrors, transport };
}

function header(type: number, sector: number): Uint8Array {
  const h = new Uint8Array(16);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, type, true);
  dv.setBigUint64(8, BigInt(sector), true);
  return h;
}

function segment(sector: number, count: number, flags = 0): Uint8Array {
  const s = new Uint8Array(16);
  const dv = new DataView(s.buffer);
  dv.setBigUint64(0, BigInt(sector), true);
  dv.setUint32(8, count, true);
  dv.setUint32(12, flags, true);
  return s;
}

const settle = () => new Promise((r) => setTimeout(r, 0));

/** Submits a request and waits for its completion; returns status, used length and the writable bytes. */
async function request(d: MockVirtioDriver, out: Uint8Array[], inLen: number) {
  const { head, inAddrs } = d.submit(0, out, [inLen]);
  await settle();
  const used = d.takeUsed(0);
  expect(used.map((u) => u.id)).toEqual([head]);
  const bytes = d.read(inAddrs[0], inLen);
  return { status: bytes[inLen - 1], len: used[0].len, data: bytes.subarray(0, inLen - 1) };
}

describe("virtio-blk (virtio 1.2, 5.2)", () => {
  it("offers capacity, blk_size, seg_max and the features its backend supports", () => {
    const { transport, driver } = setup();
    expect(transport.read(V.Config, 4)).toBe(DISK / 512);
    expect(transport.read(V.Config + 20, 4)).toBe(512);
    const f = driver.deviceFeatures();
    for (const b of [
      B.VIRTIO_BLK_F_FLUSH,
      B.VIRTIO_BLK_F_BLK_SIZE,
      B.VIRTIO_BLK_F_DISCARD,
      B.VIRTIO_BLK_F_WRITE_ZEROES,
    ]) {
      expect(f & (1n << BigInt(b))).not.toBe(0n);
    }
    expect(f & (1n << BigInt(B.VIRTIO_BLK_F_RO))).toBe(0n);
    expect(setup({ readOnly: true }).driver.deviceFeatures() & (1n << BigInt(B.VIRTIO_BLK_F_RO))).not.toBe(
      0n,
    );
  });

  it("reads sectors into guest memory and interrupts", async () => {
    const { driver, disk, irq } = setup();
    const r = await request(driver, [header(B.VIRTIO_BLK_T_IN, 3)], 1024 + 1);
    expect(r.status).toBe(B.VIRTIO_BLK_S_OK);
    expect(r.len).toBe(1025);
    expect(r.data).toEqual(disk.subarray(3 * 512, 5 * 512));
    expect(irq.level).toBe(true);
  });

  it("writes, flushes, then reads back what it wrote", async () => {
    const { driver, backend } = setup();
    const payload = new Uint8Array(512).fill(0xab);
    expect((await request(driver, [header(B.VIRTIO_BLK_T_OUT, 10), payload], 1)).status).toBe(
      B.VIRTIO_BLK_S_OK,
    );
    expect((await request(driver, [header(B.VIRTIO_BLK_T_FLUSH, 0)], 1)).status).toBe(B.VIRTIO_BLK_S_OK);
    const back = new Uint8Array(512);
    await backend.read(10 * 512, back);
    expect(back).toEqual(payload);
    expect((await request(driver, [header(B.VIRTIO_BLK_T_IN, 10)], 513)).data).toEqual(payload);
  });

  it("returns the serial for GET_ID, NUL-padded to 20 bytes", async () => {
    const { driver } = setup();
    const r = await request(driver, [header(B.VIRTIO_BLK_T_GET_ID, 0)], 21);
    expect(r.status).toBe(B.VIRTIO_BLK_S_OK);
    expect(new TextDecoder().decode(r.data).replace(/\0+$/, "")).toBe("BP-SERIAL-1");
  });

  it("discards and writes zeroes over a range", async () => {
    const { driver, backend } = setup();
    expect(
      (await request(driver, [header(B.VIRTIO_BLK_T_WRITE_ZEROES, 0), segment(2, 4, 1)], 1)).status,
    ).toBe(0);
    expect((await request(driver, [header(B.VIRTIO_BLK_T_DISCARD, 0), segment(20, 2)], 1)).status).toBe(0);
    const back = new Uint8Array(4 * 512);
    await backend.read(2 * 512, back);
    expect(back.every((b) => b === 0)).toBe(true);
  });

  it("fails reads and writes past the end of the disk with IOERR and writes nothing", async () => {
    const { driver, backend, disk } = setup();
    expect((await request(driver, [header(B.VIRTIO_BLK_T_IN, DISK / 512 - 1)], 1025)).status).toBe(
      B.VIRTIO_BLK_S_IOERR,
    );
    const big = new Uint8Array(1024).fill(1);
    expect((await request(driver, [header(B.VIRTIO_BLK_T_OUT, DISK / 512 - 1), big], 1)).status).toBe(
      B.VIRTIO_BLK_S_IOERR,
    );
    expect((await request(driver, [header(B.VIRTIO_BLK_T_IN, 2 ** 52)], 513)).status).toBe(
      B.VIRTIO_BLK_S_IOERR,
    );
    const all = new Uint8Array(DISK);
    await backend.read(0, all);
    expect(all).toEqual(disk);
  });

  it("refuses writes on a read-only disk and unknown request types", async () => {
    const ro = setup({ readOnly: true });
    expect((await request(ro.driver, [header(B.VIRTIO_BLK_T_OUT, 0), new Uint8Array(512)], 1)).status).toBe(
      B.VIRTIO_BLK_S_IOERR,
    );
    expect((await request(ro.driver, [header(99, 0)], 1)).status).toBe(B.VIRTIO_BLK_S_UNSUPP);
  });

  it("turns a backend failure into IOERR and reports it", async () => {
    const { driver, ioErrors } = setup({ failing: true });
    expect((await request(driver, [header(B.VIRTIO_BLK_T_IN, 0)], 513)).status).toBe(B.VIRTIO_BLK_S_IOERR);
    expect(ioErrors).toHaveLength(1);
  });

  it("puts the device into NEEDS_RESET for a request with no status byte", async () => {
    const { driver } = setup();
    driver.submit(0, [header(B.VIRTIO_BLK_T_IN, 0)], []);
    await settle();
    expect(driver.reg(V.Status) & V.STATUS_DEVICE_NEEDS_RESET).toBeTruthy();
    expect(driver.takeUsed(0)).toEqual([]);
  });
});
