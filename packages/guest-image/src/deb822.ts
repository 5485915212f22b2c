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

/**
 * Parses every paragraph of a deb822 document. With `keep`, only those
 * (lower-case) fields are stored, which makes large indexes cheaper to read.
 */
export function parseDeb822(text: string, keep?: ReadonlySet<string>): Deb822Paragraph[] {
  const paragraphs: Deb822Paragraph[] = [];
  let current: Deb822Paragraph | undefined;
  let last: string | undefined;
  let lineNo = 0;
  // Walks the text with indexOf rather than split(), so a 50 MiB index does
  // not become millions of line strings at once.
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const next = end + 1;
    if (text.charCodeAt(end - 1) === 0x0d) end--;
    lineNo++;
    let firstSolid = start;
    while (firstSolid < end && (text.charCodeAt(firstSolid) === 0x20 || text.charCodeAt(firstSolid) === 0x09))
      firstSolid++;
    if (firstSolid === end) {
      current = undefined;
      last = undefined;
    } else if (firstSolid > start) {
      if (!current || last === undefined)
        throw new CorruptDataError(`deb822: continuation line ${lineNo} has no field`);
      const value = current.get(last);
      if (value !== undefined) current.set(last, `${value}\n${text.slice(start + 1, end)}`);
    } else if (text.charCodeAt(start) !== 0x23 /* "#" comment */) {
      const colon = text.indexOf(":", start);
      if (colon <= start || colon >= end) {
        throw new CorruptDataError(
          `deb822: line ${lineNo} is not 'Field: value': '${text.slice(start, end)}'`,
        );
      }
      if (!current) {
        current = new Map();
        paragraphs.push(current);
      }
      last = text.slice(start, colon).toLowerCase();
      if (!keep || keep.has(last)) current.set(last, text.slice(colon + 1, end).trim());
    }
    start = next;
  }
  return paragraphs;
}
