import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import { InvalidArgumentError } from "@backplane/core";
import { describe, expect, it } from "vitest";
import { WorkerCompressor } from "./compressor.js";

const HAS_ZSTD = spawnSync("zstd", ["--version"]).status === 0;

/** Text-like bytes with repeats farther apart than 4 KiB, so the window size matters. */
function sample(seed: number, size = 65536): Uint8Array {
  const out = new Uint8Array(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = i >= 8192 && s % 3 === 0 ? out[i - 8000] : 97 + ((s >>> 16) % 26);
  }
  return out;
}

describe("WorkerCompressor", () => {
  it("deflates on worker threads with QEMU's parameters (inflates with windowBits 12), many at once", async () => {
    const c = new WorkerCompressor({ threads: 2 });
    try {
      const inputs = Array.from({ length: 24 }, (_, i) => sample(i + 1));
      const outs = await Promise.all(inputs.map((d) => c.compress("deflate", d.slice())));
      outs.forEach((out, i) => {
        expect(out.length).toBeLessThan(inputs[i].length);
        expect(inflateRawSync(out, { windowBits: 12 }).equals(inputs[i])).toBe(true);
      });
    } finally {
      await c.close();
    }
  });

  it("takes ownership of a whole buffer and copies a view of a larger one (Buffer too)", async () => {
    const c = new WorkerCompressor({ threads: 1 });
    try {
      const whole = sample(7);
      await c.compress("deflate", whole);
      expect(whole.byteLength).toBe(0); // transferred to the worker
      const big = Buffer.from(sample(8, 3 * 65536)); // Buffer#slice makes views, not copies
      const before = big.slice();
      const out = await c.compress("deflate", big.subarray(65536, 2 * 65536));
      expect(big.equals(before)).toBe(true);
      expect(inflateRawSync(out).equals(before.subarray(65536, 2 * 65536))).toBe(true);
    } finally {
      await c.close();
    }
  });

  it.skipIf(!HAS_ZSTD)("zstd on worker threads: one frame per call that the zstd tool decodes", async () => {
    const c = new WorkerCompressor({ threads: 2 });
    try {
      expect(c.algorithms).toEqual(["deflate", "zstd"]);
      const inputs = Array.from({ length: 8 }, (_, i) => sample(i + 40));
      const outs = await Promise.all(inputs.map((d) => c.compress("zstd", d.slice())));
      outs.forEach((out, i) => {
        expect(out.length).toBeLessThan(inputs[i].length);
        const r = spawnSync("zstd", ["-d", "-c"], { input: out });
        expect(r.status).toBe(0);
        expect(r.stdout.equals(inputs[i])).toBe(true);
      });
    } finally {
      await c.close();
    }
  });

  it("refuses work after close and bad thread counts", async () => {
    const c = new WorkerCompressor();
    await c.close();
    await expect(c.compress("deflate", sample(1))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => new WorkerCompressor({ threads: 0 })).toThrow(InvalidArgumentError);
  });

  it("idle workers never keep the process alive, closed or not", () => {
    const module = fileURLToPath(new URL("./compressor.ts", import.meta.url));
    for (const close of [true, false]) {
      const script = `
        import { WorkerCompressor } from ${JSON.stringify(module)};
        const c = new WorkerCompressor({ threads: 2 });
        const outs = await Promise.all([1, 2, 3, 4].map((i) => c.compress(i % 2 ? "zstd" : "deflate", new Uint8Array(65536).fill(7))));
        console.log(outs.length);
        ${close ? "await c.close();" : ""}
      `;
      const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        encoding: "utf8",
        timeout: 60_000, // a hang would otherwise block the suite; exiting at all is what is checked
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe("4");
    }
  });
});
