/**
 * Orders async tasks on one image. `run` tasks are exclusive: each starts
 * after everything queued before it has finished, and nothing queued after it
 * starts before it ends. Format drivers put writes that allocate (a new
 * cluster, block or grain) and flushes through `run`, so two writes in flight
 * never race for the same free space. `runShared` tasks (reads) queued one
 * after another run at the same time, still ordered against exclusive tasks.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** The shared tasks queued since the last exclusive one, while any of them is unfinished. */
  private group: { gate: Promise<unknown>; active: number; release(): void } | undefined;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.group = undefined;
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  runShared<T>(task: () => Promise<T>): Promise<T> {
    let group = this.group;
    if (!group) {
      let release = () => {};
      const drained = new Promise<void>((resolve) => {
        release = resolve;
      });
      group = { gate: this.tail, active: 0, release };
      this.group = group;
      this.tail = drained;
    }
    const g = group;
    g.active++;
    const result = g.gate.then(task);
    const finished = () => {
      if (--g.active > 0) return;
      if (this.group === g) this.group = undefined;
      g.release();
    };
    result.then(finished, finished);
    return result;
  }
}
