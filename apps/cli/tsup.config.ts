import { defineConfig } from "tsup";

// The CLI is an app: one ESM bundle for Node, workspace packages bundled from their built output.
export default defineConfig({
  entry: { main: "src/main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  sourcemap: true,
  clean: true,
});
