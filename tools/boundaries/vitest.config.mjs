import { reporters } from "@backplane/config/vitest";
import { defineConfig } from "vitest/config";

export default defineConfig({ test: { include: ["*.test.mjs"], reporters } });
