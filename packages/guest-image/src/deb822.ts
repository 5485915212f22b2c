/**
 * deb822 control-file syntax: paragraphs of "Field: value" lines separated by
 * blank lines, continuation lines starting with a space or tab.
 *
 * Spec: deb822(5); Debian Policy §5.1 "Syntax of control files". Field names
 * are matched case-insensitively (stored lower-case).
 * Left out: OpenPGP clear-signed wrappers (InRelease), comment lines outside
 * apt's sources files (they are skipped here as apt does).
 */
import { CorruptDataError } from "@backplane/core";

/** One paragraph: lower-case field name -> value (continuation lines joined with "\n"). */
export type Deb822Paragraph = Map<string, string>;

/** Parses every paragraph of a deb822 document. */
export function parseDeb822(text: string): Deb822Paragraph[] {
  const paragraphs: Deb822Paragraph[] = [];
  let current: Deb822Paragraph | undefined;
  let last: string | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "");
    if (line.startsWith("#")) continue;
    if (line.trim() === "") {
      current = undefined;
      last = undefined;
      continue;
    }
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (!current || last === undefined)
        throw new CorruptDataError(`deb822: continuation line ${i + 1} has no field`);
      current.set(last, `${current.get(last)}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new CorruptDataError(`deb822: line ${i + 1} is not 'Field: value': '${line}'`);
    if (!current) {
      current = new Map();
      paragraphs.push(current);
    }
    last = line.slice(0, colon).toLowerCase();
    current.set(last, line.slice(colon + 1).trim());
  }
  return paragraphs;
}
