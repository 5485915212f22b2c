// Shared vitest preset: resolve workspace packages to their TypeScript
// sources (the "source" export condition) so tests never need a build first.
import { defineConfig } from "vitest/config";

export function preset(overrides = {}) {
  return defineConfig({
    resolve: { conditions: ["source"] },
    ssr: { resolve: { conditions: ["source"] } },
    test: { include: ["src/**/*.test.ts", "test/**/*.test.ts"], testTimeout: 60_000, ...overrides },
  });
}
