/**
 * A `Compressor` (see @backplane/disk) for Node that compresses on worker
 * threads, so `convert -c` uses more than one core (spec: QEMU
 * docs/interop/qcow2.txt, "Compressed Clusters Descriptor" and the
 * compression_type header field). Deflate is native zlib with QEMU's qcow2
 * parameters (raw deflate, Z_DEFAULT_COMPRESSION, windowBits 12, memLevel 9,
 * as block/qcow2-threads.c sets them). zstd (level 3, QEMU's default; Node
 * 20's zlib has no zstd) is the native zstd library through the optional
 * dependency zstd-napi, one reusable compression context per worker, loaded
 * by each worker on its first zstd task; where that addon is not installed or
 * does not load, the worker uses zstd compiled to WebAssembly
 * (@bokuweb/zstd-wasm) instead. Both are found through node_modules at run
 * time: where neither can be resolved (a bundle outside a node_modules tree)
 * `algorithms` lists deflate only and the format's own encoder does zstd.
 * Tasks go to the worker with the fewest in flight.
 *
 * Workers start on first use and are unreferenced while idle, so they never
 * keep the process alive; `close()` stops them.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { InvalidArgumentError, UnsupportedError } from "@backplane/core";
import type { Compressor } from "@backplane/disk";

/** The worker's program (CommonJS, evaluated): compresses each message's bytes and answers with the result. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { constants, deflateRawSync } = require("node:zlib");
const params = { level: constants.Z_DEFAULT_COMPRESSION, windowBits: 12, memLevel: 9 };
let zstd;
/** zstd level 3 as a function of the data: the native addon where it loads, else the wasm build. */
async function zstdEncoder() {
  if (workerData.native) {
    try {
      const { Compressor } = require(workerData.native);
      const ctx = new Compressor();
      ctx.setParameters({ compressionLevel: 3 });
      return (data) => ctx.compress(data);
    } catch {
      // Not built for this Node or platform: the wasm build below does the same job, slower.
    }
  }
  const wasm = require(workerData.wasm);
  await wasm.init();
  return (data) => wasm.compress(data, 3);
}
async function compress(algorithm, data) {
  if (algorithm === "deflate") return deflateRawSync(data, params);
  zstd ??= zstdEncoder();
  return (await zstd)(data);
}
parentPort.on("message", async ({ id, algorithm, data }) => {
  try {
    const out = await compress(algorithm, data);
    const own = out.byteOffset === 0 && out.buffer.byteLength === out.length ? out : new Uint8Array(out);
    parentPort.postMessage({ id, bytes: own }, [own.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
});
`;

/** The file `specifier` resolves to from here, or undefined where it cannot be resolved. */
function resolveModule(specifier: string): string | undefined {
  try {
    return createRequire(import.meta.url ?? __filename).resolve(specifier);
  } catch {
    return undefined;
  }
}

/** Options for {@link WorkerCompressor}. */
export interface WorkerCompressorOptions {
  /** Worker threads (default: the host's available parallelism). */
  threads?: number;
}

interface Task {
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  tasks: Map<number, Task>;
}

/** Compresses on a pool of worker threads; see the module header. */
export class WorkerCompressor implements Compressor {
  readonly algorithms: readonly ("deflate" | "zstd")[];
  private readonly threads: number;
  /** The zstd encoders' files: the native addon (optional) and the wasm build. */
  private readonly zstd = { native: resolveModule("zstd-napi"), wasm: resolveModule("@bokuweb/zstd-wasm") };
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(options: WorkerCompressorOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isSafeInteger(threads) || threads < 1)
      throw new InvalidArgumentError(`compressor: threads must be a positive integer, not ${threads}`);
    this.threads = threads;
    this.algorithms = this.zstd.wasm ? ["deflate", "zstd"] : ["deflate"];
  }

  compress(algorithm: "deflate" | "zstd", data: Uint8Array): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new InvalidArgumentError("compressor: closed"));
    if (!this.algorithms.includes(algorithm))
      return Promise.reject(new UnsupportedError(`compressor: ${algorithm} is not available`));
    const slot = this.pick();
    const id = this.nextId++;
    // Take ownership of a buffer that holds exactly `data` (moved, not copied); copy anything else.
    const own =
      data.buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === data.buffer.byteLength
        ? data
        : new Uint8Array(data); // a copy (Buffer#slice would be a view)
    return new Promise<Uint8Array>((resolve, reject) => {
      if (slot.tasks.size === 0) slot.worker.ref();
      slot.tasks.set(id, { resolve, reject });
      slot.worker.postMessage({ id, algorithm, data: own }, [own.buffer as ArrayBuffer]);
    });
  }

  /** Stops the workers; compressions still running fail. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) this.fail(s, new InvalidArgumentError("compressor: closed"));
  }

  /** The worker with the fewest tasks, starting another while fewer than `threads` run. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.tasks.size < best.tasks.size) best = s;
    if (best && (best.tasks.size === 0 || this.slots.length >= this.threads)) return best;
    // No inherited Node flags: loaders (--import) and --input-type would change how the program runs.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: this.zstd });
    const slot: Slot = { worker, tasks: new Map() };
    slot.worker.unref();
    slot.worker.on("message", (m: { id: number; bytes?: Uint8Array; error?: string }) => {
      const task = slot.tasks.get(m.id);
      if (!task) return;
      slot.tasks.delete(m.id);
      if (slot.tasks.size === 0) slot.worker.unref();
      if (m.bytes) task.resolve(m.bytes);
      else task.reject(new Error(`compressor: ${m.error}`));
    });
    const lost = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.fail(slot, err);
    };
    slot.worker.on("error", lost);
    slot.worker.on("exit", (code) => lost(new Error(`compressor: worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private fail(slot: Slot, err: Error): void {
    const tasks = [...slot.tasks.values()];
    slot.tasks.clear();
    for (const t of tasks) t.reject(err);
  }
}
