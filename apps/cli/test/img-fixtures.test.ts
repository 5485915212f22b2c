/**
 * Golden fixtures (made by tools/disk-fixtures/make-fixtures.sh with qemu-img
 * and qemu-io, committed): our reading of each image must match what qemu said
 * about it. Runs without qemu installed.
 */
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import {
  common,
  FIXTURES,
  firstDifference,
  fixtureContents,
  fixtureJson,
  hasFormat,
  img,
  tempDir,
  unpackFixture,
} from "./img-helpers.js";

const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".info.json"))
  .map((f) => f.slice(0, -".info.json".length));
const { dir, cleanup } = tempDir();
afterAll(cleanup, 60_000);

describe.each(fixtures)("fixture %s", (name) => {
  const format = name.split(".")[1];
  const ready = hasFormat(format);
  if (!ready) console.warn(`fixture ${name}: no '${format}' driver registered yet, skipped`);

  it.skipIf(!ready)("reads byte-identical to qemu-img convert -O raw", async () => {
    const path = unpackFixture(name, dir);
    const out = join(dir, `${name}.out.raw`);
    const r = await img("convert", "-f", format, "-O", "raw", path, out);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(firstDifference(readFileSync(out), fixtureContents(name))).toBe(-1);
  });

  it.skipIf(!ready)("info --output=json agrees with qemu-img on the fields both print", async () => {
    const path = unpackFixture(name, dir);
    const r = await img("info", "-f", format, "--output=json", path);
    expect(r.code).toBe(0);
    // qemu ran in the image's directory: compare file names relative to it.
    const ours = JSON.parse(r.stdout.replaceAll(`${dir}/`, ""));
    const theirs = fixtureJson(name, "info") as Record<string, unknown>;
    const [a, b] = common(ours, theirs);
    delete a["actual-size"];
    delete b["actual-size"];
    expect(a).toEqual(b);
    expect(ours["virtual-size"]).toBe(theirs["virtual-size"]);
  });

  // A raw image maps the holes of its file: it is unpacked sparse, as qemu-io left it.
  it.skipIf(!ready)("map --output=json equals qemu-img's", async () => {
    const path = format === "raw" ? unpackSparse(name, dir) : unpackFixture(name, dir);
    const r = await img("map", "-f", format, "--output=json", path);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(fixtureJson(name, "map"));
  });
});

/**
 * Unpacks fixture `name` as a sparse file holding only its non-zero 4 KiB
 * blocks: where qemu-io wrote (or punched) on a file system with 4 KiB blocks.
 */
function unpackSparse(name: string, into: string): string {
  const path = join(into, `${name}.sparse`);
  const bytes = gunzipSync(readFileSync(join(FIXTURES, `${name}.gz`)));
  const fd = openSync(path, "w");
  ftruncateSync(fd, bytes.length);
  for (let at = 0; at < bytes.length; at += 4096) {
    const block = bytes.subarray(at, at + 4096);
    if (block.some((b) => b !== 0)) writeSync(fd, block, 0, block.length, at);
  }
  closeSync(fd);
  return path;
}
