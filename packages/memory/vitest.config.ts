import { preset } from "@backplane/config/vitest";

export default preset({ benchmark: { include: ["bench/**/*.bench.ts"] } });
