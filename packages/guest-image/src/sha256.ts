/**
 * SHA-256 (FIPS 180-4) through WebCrypto's `crypto.subtle.digest`, available
 * as a global in browsers and Node 20, and a verification helper that reports
 * mismatches with both digests.
 */
import { CorruptDataError } from "@backplane/core";

/** A downloaded or cached file does not match its expected size or SHA-256. */
export class ChecksumMismatchError extends CorruptDataError {
  readonly expected: string;
  readonly actual: string;

  constructor(what: string, expected: string, actual: string) {
    super(`${what}: checksum mismatch: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** Lower-case hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Throws ChecksumMismatchError unless `bytes` has the expected size (when
 * given) and SHA-256. `what` names the file (URL or package) in the message.
 */
export async function verifySha256(
  bytes: Uint8Array,
  expected: { sha256: string; size?: number },
  what: string,
): Promise<void> {
  if (expected.size !== undefined && bytes.length !== expected.size) {
    throw new ChecksumMismatchError(`${what} (size)`, `${expected.size} bytes`, `${bytes.length} bytes`);
  }
  const actual = await sha256Hex(bytes);
  if (actual !== expected.sha256.toLowerCase())
    throw new ChecksumMismatchError(what, expected.sha256, actual);
}
