/**
 * Runs async tasks one at a time, in call order. Format drivers put writes
 * that allocate (a new cluster, block or grain) and flushes through one, so
 * two writes in flight never race for the same free space.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
