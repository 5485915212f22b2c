/**
 * apt source lists: which mirror the host already uses.
 *
 * Spec: sources.list(5): the deb822 form (`*.sources`: Types, URIs, Suites,
 * Components, Enabled) and the one-line form (`deb [options] URI suite
 * [component...]`).
 * Left out: `deb-src` entries, [option] values, the mirror+file and cdrom
 * methods (only http and https mirrors are offered).
 */
import { parseDeb822 } from "./deb822.js";

/** One `deb` source: a mirror URI and the suites it is used for. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

function words(v: string | undefined): string[] {
  return (v ?? "").split(/\s+/).filter(Boolean);
}

/** Parses a deb822 `.sources` file, keeping enabled `deb` entries. */
export function parseSourcesDeb822(text: string): AptSource[] {
  return parseDeb822(text)
    .filter((p) => words(p.get("types")).includes("deb") && p.get("enabled")?.toLowerCase() !== "no")
    .flatMap((p) =>
      words(p.get("uris")).map((uri) => ({
        uri,
        suites: words(p.get("suites")),
        components: words(p.get("components")),
      })),
    );
}

/** Parses a one-line-style `sources.list`, keeping `deb` lines. */
export function parseSourcesList(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw
      .replace(/#.*/, "")
      .trim()
      .replace(/^(deb(?:-src)?)\s+\[[^\]]*\]/, "$1");
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if (type === "deb" && uri && suite) sources.push({ uri, suites: [suite], components });
  }
  return sources;
}

/**
 * Picks the primary archive mirror: the first http(s) source that carries a
 * plain release suite (not "-security", "-updates" or "-backports").
 * Returns the URI without a trailing slash, or undefined.
 */
export function primaryMirror(sources: readonly AptSource[]): string | undefined {
  const found = sources.find(
    (s) =>
      /^https?:\/\//.test(s.uri) && s.suites.some((suite) => !suite.includes("-") && !suite.includes("/")),
  );
  return found?.uri.replace(/\/+$/, "");
}
