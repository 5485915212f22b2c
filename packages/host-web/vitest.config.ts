import { preset } from "@backplane/config/vitest";

export default preset();
