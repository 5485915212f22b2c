import { afterAll, describe, expect, it } from "vitest";
import { hasQemu, openImage, qemuImg, qemuIo, qemuRaw, readAll, tempDir } from "./helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup);

describe.skipIf(!hasQemu)("images made by qemu read like qemu-img convert -O raw", () => {
  it("v3 64K", async () => {
    const p = `${dir}/a.qcow2`;
    qemuImg("create", "-f", "qcow2", p, "4M");
    qemuIo(p, ["write -P 0xab 0 100k", "write -P 0x11 1M 3k", "write -z 2M 128k"]);
    const img = await openImage(p, { readOnly: true });
    expect(Buffer.from(await readAll(img)).equals(Buffer.from(qemuRaw(p, dir)))).toBe(true);
    await img.close();
  });
});
