// Shared tsup preset: every package builds src/index.ts (plus any extra
// entries it lists) to ESM + CJS with .d.ts/.d.cts, for Node 20 and browsers.
import { defineConfig } from "tsup";

/** @param {{ entry?: Record<string,string>, platform?: "neutral"|"node" }} [opts] */
export function preset(opts = {}) {
  return defineConfig({
    entry: opts.entry ?? { index: "src/index.ts" },
    format: ["esm", "cjs"],
    platform: opts.platform ?? "neutral",
    target: "es2022",
    dts: {
      compilerOptions: { ignoreDeprecations: "6.0", customConditions: [] },
    },
    sourcemap: true,
    clean: true,
    treeshake: false,
    splitting: false,
  });
}
