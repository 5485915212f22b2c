import { preset } from "@backplane/config/tsup";

export default preset({ entry: { index: "src/index.ts", "testing/index": "src/testing/index.ts" } });
