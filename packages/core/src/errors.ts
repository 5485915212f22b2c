/**
 * Typed errors shared by every Backplane package.
 *
 * Host-side bad input (a corrupt image, a bad flag, a missing file) is reported
 * with one of these classes so callers can branch on `code` instead of parsing
 * messages. Guest-triggerable conditions never throw out of a machine: they are
 * turned into guest-visible errors and counted in a hook.
 */

/** Base class of every error thrown by Backplane packages. */
export class BackplaneError extends Error {
  /** Stable, machine-readable error code (e.g. `"E_CORRUPT"`). */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An argument, flag or configuration value is malformed or out of range. */
export class InvalidArgumentError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_INVALID_ARGUMENT", message, options);
  }
}

/** A named resource (file, image, firmware, package) does not exist. */
export class NotFoundError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_NOT_FOUND", message, options);
  }
}

/** Structured input (image, device tree, ELF, snapshot) is corrupt or truncated. */
export class CorruptDataError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_CORRUPT", message, options);
  }
}

/** Input uses a feature or version this implementation does not support. */
export class UnsupportedError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_UNSUPPORTED", message, options);
  }
}

/** A write was attempted on something opened read-only. */
export class ReadOnlyError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_READ_ONLY", message, options);
  }
}

/** Two regions or devices were mapped over the same addresses. */
export class OverlapError extends BackplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_OVERLAP", message, options);
  }
}

/** A guest-physical access fell outside guest memory (DMA out of bounds). */
export class GuestMemoryFault extends BackplaneError {
  /** First guest-physical address of the failed access. */
  readonly address: number;
  /** Length of the failed access in bytes. */
  readonly length: number;

  constructor(address: number, length: number) {
    super(
      "E_GUEST_MEMORY",
      `guest memory access out of bounds: 0x${address.toString(16)} (+${length} bytes)`,
    );
    this.address = address;
    this.length = length;
  }
}

/** A download failed: the server answered with a bad HTTP status, or could not be reached. */
export class NetworkError extends BackplaneError {
  /** The URL that was requested. */
  readonly url: string;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;

  constructor(url: string, message: string, status?: number, options?: { cause?: unknown }) {
    super("E_NETWORK", `${url}: ${message}`, options);
    this.url = url;
    this.status = status;
  }
}
