/** `backplane img` — not implemented yet. */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write("backplane img: not implemented yet\n");
  return 1;
}
