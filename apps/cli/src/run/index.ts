/** `backplane run` — not implemented yet. */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write("backplane run: not implemented yet\n");
  return 1;
}
