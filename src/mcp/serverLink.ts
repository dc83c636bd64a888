import { ExecClient, type ClosedEvent, type ExitedEvent, type OutputEvent } from '../client/client';
import { resolveServer, ServerNotFoundError, type ResolvedServer } from '../discovery/resolveServer';

export interface LinkOptions {
  /** `--url` / `--token-file`; without them the environment, then the discovery files. */
  url?: string;
  tokenFile?: string;
  env: NodeJS.ProcessEnv;
  /** The bridge's working directory (the agent's, for agents that start it where they work). */
  cwd: string;
  /** The MCP client's roots (absolute paths), asked for only when a connection is needed. */
  roots: () => Promise<string[]>;
  /** The MCP client's `clientInfo.name`: the session's name in the server (and its tree). */
  clientName: () => string;
  /** Per-process events, tagged with the connection number they came from. */
  events: {
    output(link: number, e: OutputEvent): void;
    exited(link: number, e: ExitedEvent): void;
    closed(link: number, e: ClosedEvent): void;
    lost(link: number, reason: string): void;
  };
  log(message: string): void;
}

export interface Connected {
  client: ExecClient;
  server: ResolvedServer;
  /** Increments with every new connection. */
  n: number;
}

/** A connection error the agent can act on (nothing was run). */
class LinkError extends Error {}

/**
 * The bridge's one connection to the exec server (one per MCP session). Made when a tool first
 * needs it and again after it is lost — the server is resolved anew each time, so a window
 * reload or a server restart (a new port, a new token) is followed. It is a seed-style session
 * (no `resumeSessionId`): when the connection goes, the server terminates its processes, so
 * a bridge that dies, however it dies, leaves nothing running.
 */
export class ServerLink {
  private current: Connected | undefined;
  private connecting: Promise<Connected> | undefined;
  private count = 0;
  private closing = false;

  constructor(private readonly o: LinkOptions) {}

  get connected(): Connected | undefined {
    return this.current?.client.isConnected ? this.current : undefined;
  }

  get(): Promise<Connected> {
    const c = this.connected;
    if (c) return Promise.resolve(c);
    if (this.closing) return Promise.reject(new LinkError('the bridge is shutting down'));
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Close the connection (the server then ends the session and its processes). */
  close(): void {
    this.closing = true;
    this.current?.client.close();
  }

  private async connect(): Promise<Connected> {
    let server: ResolvedServer;
    try {
      const roots = this.o.url || this.o.env.EXEC_SERVER_URL ? [] : await this.o.roots();
      server = await resolveServer({ url: this.o.url, tokenFile: this.o.tokenFile, cwd: this.o.cwd, roots, env: this.o.env });
    } catch (err) {
      if (err instanceof ServerNotFoundError) throw new LinkError(err.message);
      throw new LinkError(`could not find the exec server: ${(err as Error).message}. Nothing was run.`);
    }
    const where = `${redact(server.url)} (${describeSource(server)})`;
    let client: ExecClient;
    try {
      client = await ExecClient.connectWebSocket(server.url, {
        token: server.token ?? undefined,
        clientName: this.o.clientName(),
        connectTimeoutMs: 5_000,
        initializeTimeoutMs: 5_000,
      });
    } catch (err) {
      throw new LinkError(
        `could not connect to the exec server at ${where}: ${redact((err as Error).message)}. ` +
          'Is the VS Code window (or `exec-server --listen`) still running? Nothing was run.',
      );
    }
    const n = ++this.count;
    client.on('output', (e: OutputEvent) => this.o.events.output(n, e));
    client.on('exited', (e: ExitedEvent) => this.o.events.exited(n, e));
    client.on('closed', (e: ClosedEvent) => this.o.events.closed(n, e));
    client.once('disconnect', (reason: string) => {
      if (this.current?.n === n) this.current = undefined;
      if (!this.closing) this.o.log(`connection to ${where} lost: ${reason}`);
      this.o.events.lost(n, reason);
    });
    if (this.closing) {
      client.close();
      throw new LinkError('the bridge is shutting down');
    }
    this.current = { client, server, n };
    this.o.log(`connected to ${where} as "${this.o.clientName()}", session ${client.sessionId}`);
    return this.current;
  }
}

function describeSource(s: ResolvedServer): string {
  switch (s.source) {
    case 'flags':
      return '--url';
    case 'env':
      return 'EXEC_SERVER_URL and EXEC_SERVER_TOKEN';
    case 'env+discovery':
      return `EXEC_SERVER_URL, token from ${s.info?.file ?? 'its discovery file'}`;
    case 'discovery':
      return `discovery file ${s.info?.file ?? ''}`.trim();
  }
}

/** Never let a token ride along in a message (URLs may carry it as `?token=`). */
export function redact(text: string): string {
  return text.replace(/([?&]token=)[^&\s]*/gi, '$1***');
}
