import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import { InvalidArgumentError } from "@backplane/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WorkerCompressor } from "./compressor.js";

/** What "zstd-napi" resolves to for the compressor: its real file (undefined), another file, or a failure. */
const napi = vi.hoisted(() => ({ resolvesTo: undefined as string | Error | undefined }));

vi.mock("node:module", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:module")>();
  const createRequire = (from: string | URL): NodeJS.Require => {
    const real = actual.createRequire(from);
    const resolve = (id: string, options?: { paths?: string[] }): string => {
      if (id !== "zstd-napi" || napi.resolvesTo === undefined) return real.resolve(id, options);
      if (napi.resolvesTo instanceof Error) throw napi.resolvesTo;
      return napi.resolvesTo;
    };
    return Object.assign((id: string) => real(id), real, {
      resolve: Object.assign(resolve, { paths: real.resolve.paths }),
    });
  };
  return { ...actual, createRequire };
});

const HAS_ZSTD = spawnSync("zstd", ["--version"]).status === 0;
const NATIVE = (() => {
  try {
    const path = createRequire(import.meta.url).resolve("zstd-napi");
    createRequire(import.meta.url)(path);
    return path;
  } catch {
    return undefined;
  }
})();

/**
 * A module standing in for zstd-napi that appends a line to `log` each time a
 * thread loads it, then re-exports the real addon or, with `fail`, throws as
 * a missing native build does.
 */
function standIn(dir: string, log: string, fail: boolean): string {
  const file = join(dir, fail ? "broken.cjs" : "native.cjs");
  const tail = fail
    ? 'throw new Error("Could not locate the bindings file");'
    : `module.exports = require(${JSON.stringify(NATIVE)});`;
  writeFileSync(file, `require("node:fs").appendFileSync(${JSON.stringify(log)}, "loaded\\n");\n${tail}\n`);
  return file;
}

/** Compresses `inputs` with zstd on two workers and checks the zstd tool decodes each frame to its input. */
async function zstdRoundTrip(inputs: Uint8Array[]): Promise<void> {
  const c = new WorkerCompressor({ threads: 2 });
  try {
    expect(c.algorithms).toEqual(["deflate", "zstd"]);
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
}

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

  describe("zstd", () => {
    let dir: string | undefined;
    afterEach(() => {
      napi.resolvesTo = undefined;
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });

    it.skipIf(!HAS_ZSTD || !NATIVE)(
      "uses the native addon, loaded once per worker: one frame per call that the zstd tool decodes",
      async () => {
        dir = mkdtempSync(join(tmpdir(), "bp-zstd-"));
        const log = join(dir, "log");
        napi.resolvesTo = standIn(dir, log, false);
        await zstdRoundTrip(Array.from({ length: 8 }, (_, i) => sample(i + 40)));
        expect(readFileSync(log, "utf8")).toBe("loaded\nloaded\n"); // two workers, one context each
      },
    );

    it.skipIf(!HAS_ZSTD)("falls back to the wasm encoder where the addon does not load", async () => {
      dir = mkdtempSync(join(tmpdir(), "bp-zstd-"));
      const log = join(dir, "log");
      napi.resolvesTo = standIn(dir, log, true);
      await zstdRoundTrip(Array.from({ length: 8 }, (_, i) => sample(i + 60)));
      expect(readFileSync(log, "utf8")).toBe("loaded\nloaded\n"); // each worker tried it first
    });

    it.skipIf(!HAS_ZSTD)("falls back to the wasm encoder where the addon is not installed", async () => {
      napi.resolvesTo = Object.assign(new Error("Cannot find module 'zstd-napi'"), {
        code: "MODULE_NOT_FOUND",
      });
      await zstdRoundTrip(Array.from({ length: 4 }, (_, i) => sample(i + 80)));
    });
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
