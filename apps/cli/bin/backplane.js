#!/usr/bin/env node
// Committed entry point: loads the built CLI (npm links bins only when the file exists at install time).
import("../dist/main.js").catch((err) => {
  if (err?.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/main.js")) {
    console.error("backplane: the CLI is not built yet; run `npm run build` first");
    process.exit(1);
  }
  throw err;
});
