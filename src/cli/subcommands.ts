/**
 * `exec-server <subcommand>`: the client side of the CLI. Without a subcommand (or with an
 * option first) `exec-server` is the server itself (main.ts). Each subcommand resolves to a
 * promise of the process exit code.
 */
import { connectMain } from './connectCommand';
import { runMain } from './runCommand';
import { serversMain } from './serversCommand';
import { mcpMain } from '../mcp/bridgeMain';

export const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  mcp: mcpMain,
  run: runMain,
  servers: serversMain,
  connect: connectMain,
};
