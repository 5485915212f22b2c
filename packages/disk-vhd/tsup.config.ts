import { preset } from "@backplane/config/tsup";

export default preset({ entry: { index: "src/index.ts", unstable: "src/unstable.ts" } });
