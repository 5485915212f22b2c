/**
 * The per-user cache folder and crash-safe file writes into it.
 *
 * Spec: XDG Base Directory Specification 0.8 ($XDG_CACHE_HOME, used only when
 * it is an absolute path; otherwise ~/.cache). Files are written to a
 * temporary name in the same folder and renamed into place, so a reader
 * never sees a half-written file.
 * Left out: locking between concurrent writers (the last rename wins),
 * eviction.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";

/** `$XDG_CACHE_HOME/<app>` or `~/.cache/<app>`. */
export function userCacheDir(app: string, env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), app);
}

/** Writes `data` to `path` atomically, creating parent folders. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The file's bytes, or undefined when it does not exist. */
export async function readFileIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
