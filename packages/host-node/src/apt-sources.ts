/**
 * Reads the host's apt source lists, in the order apt reads them:
 * `sources.list`, then `sources.list.d/*.list` and `*.sources` sorted by name.
 *
 * Spec: sources.list(5) (file locations and the two formats). Parsing the
 * text is left to the caller (@backplane/guest-image has the parsers); this
 * module only finds and reads the files. Files with other suffixes (for
 * example `.disabled`) are ignored, as apt ignores them.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One apt source file: deb822 (`.sources`) or one-line (`.list`). */
export interface AptSourceFile {
  path: string;
  format: "deb822" | "one-line";
  text: string;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === "ENOENT" ||
      (err as NodeJS.ErrnoException).code === "ENOTDIR"
    ) {
      return undefined;
    }
    throw err;
  }
}

/** Lists the apt source files under `aptDir` (default /etc/apt). */
export async function readAptSourceFiles(aptDir = "/etc/apt"): Promise<AptSourceFile[]> {
  const files: AptSourceFile[] = [];
  const main = join(aptDir, "sources.list");
  const mainText = await readIfPresent(main);
  if (mainText !== undefined) files.push({ path: main, format: "one-line", text: mainText });
  let names: string[] = [];
  try {
    names = (await readdir(join(aptDir, "sources.list.d"))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const name of names) {
    const format = name.endsWith(".sources") ? "deb822" : name.endsWith(".list") ? "one-line" : undefined;
    if (!format) continue;
    const path = join(aptDir, "sources.list.d", name);
    const text = await readIfPresent(path);
    if (text !== undefined) files.push({ path, format, text });
  }
  return files;
}
