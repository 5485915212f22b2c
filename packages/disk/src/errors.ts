/** Disk-specific typed errors (subclasses of `BackplaneError` from `@backplane/core`). */
import { BackplaneError } from "@backplane/core";

/** A backing chain refers back to an image already in it, or is deeper than allowed. */
export class BackingChainError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_BACKING_CHAIN", message, options);
  }
}
