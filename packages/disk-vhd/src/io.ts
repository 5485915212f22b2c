/**
 * A small helper shared by the VHD, VMDK and VDI drivers (exported on the
 * `@backplane/disk-vhd/unstable` subpath until `@backplane/disk` offers it).
 */

/** Runs async tasks one at a time in call order (writes that allocate must not interleave). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
