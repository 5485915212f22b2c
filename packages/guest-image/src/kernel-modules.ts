/**
 * Linux kernel modules from a kernel package: read each module's .modinfo,
 * and resolve the modules an initramfs must carry, in load order.
 *
 * Specs:
 * - ELF: System V ABI (gABI) chapter 4, "ELF Header" and "Sections": the
 *   section header table (e_shoff, e_shentsize, e_shnum, e_shstrndx) and the
 *   section name string table; ELFCLASS32/64, ELFDATA2LSB/MSB.
 * - .modinfo: NUL-terminated "tag=value" strings (include/linux/moduleparam.h,
 *   __MODULE_INFO). `name`, `alias` and `softdep` come from the module's
 *   source (include/linux/module.h; softdep text is "pre: a b post: c", as in
 *   modprobe.d(5)); `depends` is written by scripts/mod/modpost.c, a comma
 *   list of the modules whose exported symbols it uses.
 * - modules.builtin and modules.builtin.modinfo: Documentation/kbuild/kbuild.rst
 *   (one kernel/…/name.ko path per built-in module; "name.tag=value" strings).
 * - Module names: the file name without .ko[.xz|.gz], '-' read as '_'
 *   (scripts/Makefile.lib, modname).
 * Deviation: dependencies come from each module's `depends` tag rather than
 *   modules.dep, because Debian's linux-image packages ship no modules.dep
 *   (depmod writes it when the package is installed); modpost computed both
 *   from the same symbol tables.
 * Left out: `post:` soft dependencies, module parameters, signatures (the
 *   kernel checks those), .ko.zst (decompress reports it as unsupported).
 */
import { CorruptDataError, NotFoundError } from "@backplane/core";
import { decompress } from "./compression.js";

/** What the .modinfo section of one module says. */
export interface ModuleInfo {
  name: string;
  /** Modules it needs loaded first (modpost's `depends`). */
  depends: string[];
  /** Modules or aliases wanted before it (`softdep=pre: …`). */
  softdepPre: string[];
  aliases: string[];
}

/** Where resolution finds modules. */
export interface ModuleSource {
  /** Names of modules built into the kernel (nothing to load). */
  builtin: ReadonlySet<string>;
  /** Aliases the built-in modules provide. */
  builtinAliases: ReadonlySet<string>;
  /** The uncompressed .ko of a loadable module, or undefined when there is none. */
  load(name: string): Promise<Uint8Array | undefined>;
}

/** A module ready to be put into an initramfs. */
export interface LoadableModule {
  name: string;
  /** The uncompressed .ko. */
  data: Uint8Array;
  info: ModuleInfo;
}

/** Module names treat '-' and '_' alike (modpost may write either in `depends`). */
const normalise = (name: string) => name.replaceAll("-", "_");

/** The module name of a path such as `kernel/drivers/char/hw_random/virtio-rng.ko.xz` ("virtio_rng"). */
export function moduleName(path: string): string {
  const file = path.slice(path.lastIndexOf("/") + 1);
  return normalise(file.replace(/\.ko(\.[a-z0-9]+)?$/, ""));
}

function elfReader(ko: Uint8Array, what: string) {
  const view = new DataView(ko.buffer, ko.byteOffset, ko.byteLength);
  if (ko.length < 52 || ko[0] !== 0x7f || ko[1] !== 0x45 || ko[2] !== 0x4c || ko[3] !== 0x46)
    throw new CorruptDataError(`${what}: not an ELF file`);
  const wide = ko[4] === 2; // EI_CLASS: 1 ELFCLASS32, 2 ELFCLASS64
  const little = ko[5] === 1; // EI_DATA: 1 ELFDATA2LSB, 2 ELFDATA2MSB
  if ((ko[4] !== 1 && !wide) || (ko[5] !== 2 && !little))
    throw new CorruptDataError(`${what}: bad ELF class or data encoding`);
  /** `at` itself, once `size` bytes from it are known to lie inside the file. */
  const check = (at: number, size: number) => {
    if (at < 0 || at + size > ko.length) throw new CorruptDataError(`${what}: ELF structure out of bounds`);
    return at;
  };
  const half = (at: number) => view.getUint16(check(at, 2), little);
  const word = (at: number) => view.getUint32(check(at, 4), little);
  const addr = (at: number) => (wide ? Number(view.getBigUint64(check(at, 8), little)) : word(at));
  return { wide, check, half, word, addr };
}

/** The sections of an ELF file by name (contents as views of `ko`). */
function elfSections(ko: Uint8Array, what: string): Map<string, Uint8Array> {
  const { wide, check, half, word, addr } = elfReader(ko, what);
  const shoff = addr(wide ? 0x28 : 0x20);
  const shentsize = half(wide ? 0x3a : 0x2e);
  const shnum = half(wide ? 0x3c : 0x30);
  const shstrndx = half(wide ? 0x3e : 0x32);
  if (shstrndx >= shnum) throw new CorruptDataError(`${what}: no section name table`);
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    check(at, wide ? 64 : 40);
    const offset = addr(at + (wide ? 0x18 : 0x10));
    const size = addr(at + (wide ? 0x20 : 0x14));
    const nobits = word(at + 4) === 8; // SHT_NOBITS occupies no file space
    if (!nobits) check(offset, size);
    return { name: word(at), data: nobits ? new Uint8Array(0) : ko.subarray(offset, offset + size) };
  };
  const names = header(shstrndx).data;
  const latin1 = new TextDecoder("latin1");
  const sections = new Map<string, Uint8Array>();
  for (let i = 1; i < shnum; i++) {
    const { name, data } = header(i);
    const end = names.indexOf(0, name);
    if (name >= names.length || end < 0) throw new CorruptDataError(`${what}: bad section name offset`);
    sections.set(latin1.decode(names.subarray(name, end)), data);
  }
  return sections;
}

/** Splits NUL-separated "tag=value" strings into tag → values (in order). */
function tagValues(strings: Uint8Array): Map<string, string[]> {
  const tags = new Map<string, string[]>();
  for (const s of new TextDecoder().decode(strings).split("\0")) {
    const eq = s.indexOf("=");
    if (eq <= 0) continue; // alignment padding
    const tag = s.slice(0, eq);
    tags.set(tag, [...(tags.get(tag) ?? []), s.slice(eq + 1)]);
  }
  return tags;
}

/** Reads the .modinfo tags of an uncompressed module (tag → values, in order). */
export function readModinfo(ko: Uint8Array, what = "module"): Map<string, string[]> {
  const section = elfSections(ko, what).get(".modinfo");
  if (!section) throw new CorruptDataError(`${what}: no .modinfo section (not a kernel module)`);
  return tagValues(section);
}

function parseSoftdepPre(values: readonly string[]): string[] {
  const pre: string[] = [];
  for (const value of values) {
    let inPre = false;
    for (const word of value.split(/\s+/)) {
      if (word === "pre:" || word === "post:") inPre = word === "pre:";
      else if (word && inPre) pre.push(word);
    }
  }
  return pre;
}

/** The parts of .modinfo that decide load order. `fallbackName` is used when there is no `name` tag. */
export function moduleInfo(ko: Uint8Array, fallbackName: string): ModuleInfo {
  const tags = readModinfo(ko, fallbackName);
  return {
    name: tags.get("name")?.[0] ?? fallbackName,
    depends: (tags.get("depends") ?? []).flatMap((d) => d.split(",")).filter((d) => d !== ""),
    softdepPre: parseSoftdepPre(tags.get("softdep") ?? []),
    aliases: tags.get("alias") ?? [],
  };
}

/**
 * The modules to load for `wanted`, each after everything it depends on
 * (`depends`, then `softdep` pre-modules), built-in modules left out. A soft
 * dependency naming an alias (matched exactly, not as a pattern) must be met
 * by a built-in module or by a module in the result (list its provider in
 * `wanted`): a NotFoundError says which.
 */
export async function resolveModules(
  wanted: readonly string[],
  source: ModuleSource,
): Promise<LoadableModule[]> {
  const found = new Map<string, LoadableModule>();
  const fetch = async (given: string, neededBy: string, optional = false): Promise<void> => {
    const name = normalise(given);
    if (source.builtin.has(name) || found.has(name)) return;
    const data = await source.load(name);
    if (!data) {
      if (optional) return; // an alias, resolved below
      throw new NotFoundError(`kernel module '${name}'${neededBy} is neither loadable nor built in`);
    }
    const module = { name, data, info: moduleInfo(data, name) };
    found.set(name, module);
    for (const dep of module.info.depends) await fetch(dep, ` (needed by ${name})`);
    for (const dep of module.info.softdepPre)
      if (!source.builtinAliases.has(dep)) await fetch(dep, ` (soft dependency of ${name})`, true);
  };
  for (const name of wanted) await fetch(name, "");

  const providers = new Map<string, string>();
  for (const m of found.values()) for (const alias of m.info.aliases) providers.set(alias, m.name);
  const edges = (m: LoadableModule): string[] => [
    ...m.info.depends.map(normalise),
    ...m.info.softdepPre.flatMap((dep) => {
      if (source.builtin.has(normalise(dep)) || source.builtinAliases.has(dep)) return [];
      if (found.has(normalise(dep))) return [normalise(dep)];
      const provider = providers.get(dep);
      if (provider === undefined) {
        throw new NotFoundError(
          `kernel module '${m.name}' wants '${dep}' loaded first (softdep); add the module providing it`,
        );
      }
      return provider === m.name ? [] : [provider];
    }),
  ];

  const order: LoadableModule[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string) => {
    const module = found.get(name);
    if (!module || state.get(name) === "done") return;
    if (state.get(name) === "visiting")
      throw new CorruptDataError(`kernel modules depend on each other in a cycle through '${name}'`);
    state.set(name, "visiting");
    for (const dep of edges(module)) visit(dep);
    state.set(name, "done");
    order.push(module);
  };
  for (const name of wanted) visit(normalise(name));
  return order;
}

/**
 * Whether `path` (inside a linux-image package) is a file {@link kernelModuleSource}
 * reads: a module under `[usr/]lib/modules/<release>/kernel/`, `modules.builtin`
 * or `modules.builtin.modinfo`.
 */
export function isModuleTreeFile(path: string, release: string): boolean {
  const prefix = /^(?:usr\/)?lib\/modules\/([^/]+)\/(.*)$/.exec(path);
  if (!prefix || prefix[1] !== release) return false;
  return /^kernel\/.*\.ko(\.[a-z0-9]+)?$|^modules\.builtin(\.modinfo)?$/.test(prefix[2]);
}

/**
 * A {@link ModuleSource} over files extracted from a kernel package (paths as
 * in the package; see {@link isModuleTreeFile}). Compressed modules are
 * decompressed when loaded.
 */
export function kernelModuleSource(files: ReadonlyMap<string, Uint8Array>, release: string): ModuleSource {
  const modules = new Map<string, [string, Uint8Array]>();
  let builtinList: Uint8Array | undefined;
  let builtinInfo: Uint8Array | undefined;
  for (const [path, data] of files) {
    if (!isModuleTreeFile(path, release)) continue;
    if (path.endsWith("/modules.builtin")) builtinList = data;
    else if (path.endsWith("/modules.builtin.modinfo")) builtinInfo = data;
    else modules.set(moduleName(path), [path, data]);
  }
  if (!builtinList) throw new NotFoundError(`kernel ${release}: modules.builtin is missing`);
  const builtin = new Set(
    new TextDecoder()
      .decode(builtinList)
      .split("\n")
      .filter((line) => line !== "")
      .map(moduleName),
  );
  const builtinAliases = new Set<string>();
  for (const [tag, values] of builtinInfo ? tagValues(builtinInfo) : [])
    if (tag.endsWith(".alias")) for (const v of values) builtinAliases.add(v);
  return {
    builtin,
    builtinAliases,
    async load(name) {
      const entry = modules.get(name);
      return entry && decompress(entry[1], entry[0]);
    },
  };
}
