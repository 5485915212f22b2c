import { preset } from "@backplane/config/tsup";

// The ./testing entry is test tooling that runs gcc and QEMU, so its declarations need Node's types.
const base = preset({ entry: { index: "src/index.ts", "testing/index": "test-support/index.ts" } });
export default {
  ...base,
  dts: { compilerOptions: { ignoreDeprecations: "6.0", customConditions: [], types: ["node"] } },
};
