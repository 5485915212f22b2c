/**
 * `backplane guest` — fetch and locate the cached Debian riscv64 guest.
 *
 *   backplane guest fetch [--mirror URL] [--cache DIR]   download, verify, unpack (no-op when cached)
 *   backplane guest path [--cache DIR]                    print the cached file paths
 *
 * `backplane run` boots the same guest through {@link ensureDebianGuest}.
 */
import { parseArgs } from "node:util";
import { InvalidArgumentError, NotFoundError } from "@backplane/core";
import { userCacheDir } from "@backplane/host-node";
import { cachedDebianGuest, type DebianGuest, ensureDebianGuest, guestDir } from "./debian.js";
import { progressReporter } from "./progress.js";

export {
  cachedDebianGuest,
  type DebianGuest,
  type DebianGuestOptions,
  ensureDebianGuest,
  fetchDebianGuest,
  type GuestManifest,
} from "./debian.js";

const USAGE = `usage: backplane guest fetch [--mirror URL] [--cache DIR]
       backplane guest path [--cache DIR]

Fetches Debian 13 (trixie) riscv64: the generic kernel, OpenSBI firmware and a
BusyBox initramfs that loads the kernel's virtio and ext4 modules, verified
against the mirror's Release and Packages indexes.
The mirror defaults to the one in the host's apt sources; the cache to
$XDG_CACHE_HOME/backplane (or ~/.cache/backplane).
`;

function describe(guest: DebianGuest): string {
  return [
    `kernel      ${guest.kernel}`,
    `initrd      ${guest.initrd}`,
    `fw_jump     ${guest.firmware.jump}`,
    `fw_dynamic  ${guest.firmware.dynamic}`,
    `busybox     ${guest.busybox}`,
    "",
  ].join("\n");
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        mirror: { type: "string" },
        cache: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new InvalidArgumentError(`guest: ${(err as Error).message}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [sub, ...extra] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 1;
  }
  if (extra.length > 0) throw new InvalidArgumentError(`guest ${sub}: unexpected argument '${extra[0]}'`);
  const cacheDir = values.cache ?? userCacheDir("backplane");

  if (sub === "path") {
    if (values.mirror !== undefined)
      throw new InvalidArgumentError("guest path: --mirror is only for 'guest fetch'");
    const guest = await cachedDebianGuest(cacheDir);
    if (!guest)
      throw new NotFoundError(`no complete guest in ${guestDir(cacheDir)}; run 'backplane guest fetch'`);
    process.stdout.write(describe(guest));
    return 0;
  }
  if (sub === "fetch") {
    const progress = progressReporter();
    const started = Date.now();
    try {
      const guest = await ensureDebianGuest({
        mirror: values.mirror,
        cacheDir,
        onProgress: progress.onProgress,
        onStatus: (s) => progress.line(`fetching ${s}`),
      });
      const kernel = guest.manifest.packages[0];
      progress.line(
        `guest ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${kernel.package} ${kernel.version} (${guest.dir})`,
      );
      process.stdout.write(describe(guest));
      return 0;
    } catch (err) {
      progress.close();
      throw err;
    }
  }
  throw new InvalidArgumentError(`guest: unknown subcommand '${sub}' (want fetch or path)`);
}
