import { preset } from "@backplane/config/tsup";

export default preset();
