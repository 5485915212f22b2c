/**
 * Sizes as qemu-img reads and prints them (QEMU util/cutils.c): input is a
 * number with an optional suffix k/K, M, G, T, P, E (powers of 1024) or B,
 * fractions allowed ("1.5G"); output is `size_to_str`: three significant
 * digits with a binary prefix ("1 KiB", "324 KiB", "1.5 GiB").
 */
import { InvalidArgumentError } from "@backplane/core";

const UNITS: Record<string, number> = {
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
  e: 2 ** 60,
};

/** Parses a size; throws with qemu-img's message when malformed or not an exact byte count. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d*)?)\s*([bkmgtpe])?$/i.exec(text);
  const bytes = m ? Number(m[1]) * UNITS[(m[2] ?? "b").toLowerCase()] : Number.NaN;
  if (!m || !Number.isSafeInteger(bytes) || (m[1].includes(".") && !m[2])) {
    throw new InvalidArgumentError(
      "Invalid image size specified. You may use k, M, G, T, P or E suffixes for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.",
    );
  }
  return bytes;
}

const PREFIX = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/** Formats a byte count like qemu's size_to_str. */
export function formatSize(bytes: number): string {
  // Pick the unit so that the value shown stays below 1000 (qemu scales by 1000/1024 first).
  const scaled = bytes / (1000 / 1024);
  const exp = scaled > 0 ? Math.floor(Math.log2(scaled)) + 1 : 0;
  const i = Math.max(0, Math.min(PREFIX.length - 1, Math.floor((exp - 1) / 10)));
  const value = bytes / 2 ** (i * 10);
  return `${Number(value.toPrecision(3))} ${PREFIX[i]}B`;
}
