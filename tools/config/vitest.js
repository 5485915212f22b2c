// Shared vitest preset: resolve workspace packages to their TypeScript
// sources (the "source" export condition) so tests never need a build first,
// and leave a JSON report that tools/run-tests.mjs adds up for the CI summary.
import { defineConfig } from "vitest/config";

export const reporters = ["default", ["json", { outputFile: ".vitest-report.json" }]];

export function preset(overrides = {}) {
  return defineConfig({
    resolve: { conditions: ["source"] },
    ssr: { resolve: { conditions: ["source"] } },
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: 60_000,
      reporters,
      ...overrides,
    },
  });
}
