// Placeholder of the seam commit: replaced by its implementation in the next commits.
export async function serversMain(_argv: string[]): Promise<number> {
  process.stderr.write('exec-server: not implemented yet\n');
  return 2;
}
