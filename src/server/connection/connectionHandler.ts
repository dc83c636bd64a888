import { ErrorCode, invalidRequest, RpcError } from '../../protocol/errors';
import { HttpRequest, Initialize, Initialized, PROTOCOL_VERSION, REQUEST_GROUPS } from '../../protocol/methods';
import type { InitializeResult } from '../../protocol/types';
import { clip, Params } from '../../protocol/validate';
import type { ClientChannel } from './clientChannel';
import type { ServerConfig } from '../config';
import { buildEnvironmentInfo } from '../environment/environmentInfo';
import { createEnvironmentMethods } from '../environment/environmentMethods';
import { createFilesystemMethods } from '../filesystem/filesystemMethods';
import { Overtakable, type MethodTable } from './methodTable';
import { createProcessMethods, type ProcessHost } from '../process/processMethods';
import { sandboxFor } from '../sandbox';
import type { Session } from '../registry/session';

/**
 * What a connection needs from the server, and no more: execServer.ts creates handlers, so
 * this file names a narrow view of it instead of importing it back (no import cycle).
 */
export interface SessionHost {
  readonly config: ServerConfig;
  readonly isShuttingDown: boolean;
  /** The process registry, as far as process/* use it. */
  readonly registry: ProcessHost;
  findSession(id: string): Session | undefined;
  createSession(clientName: string, resumable: boolean): Session;
}

/** Thrown for messages after which the connection must be closed (the seed's rule). */
export class ProtocolViolation extends Error {}

type Phase = 'new' | 'awaitingInitialized' | 'ready' | 'closed';

/**
 * One connection's state machine: the initialize/initialized handshake, then routing to
 * the process, filesystem and environment methods. Transport-agnostic: transports feed it
 * decoded requests and notifications and send back what it returns or throws.
 */
export class ConnectionHandler {
  private phase: Phase = 'new';
  private session: Session | null = null;
  private methods: MethodTable = {};
  private readonly fs: ReturnType<typeof createFilesystemMethods>;
  /** An asynchronous request is under way: later ones wait in `queued` (arrival order). */
  private busy = false;
  private readonly queued: Array<{ method: string; params: unknown; resolve(v: unknown): void; reject(e: unknown): void }> = [];

  constructor(
    private readonly server: SessionHost,
    private readonly channel: ClientChannel,
  ) {
    this.fs = createFilesystemMethods({ notify: (method, params) => channel.notify(method, params as object) });
  }

  get sessionId(): string | undefined {
    return this.session?.id;
  }

  /**
   * Requests take effect in arrival order: while one is under way asynchronously (a start
   * spawning, an fs call), the ones behind it wait in `queued`; synchronous ones (a write,
   * a signal) run at once when nothing is ahead of them, with no scheduler hop. Only a
   * long-polling process/read (`Overtakable`) lets later requests pass while it waits.
   */
  handleRequest(method: string, params: unknown): Promise<unknown> {
    if (this.busy || this.queued.length > 0) {
      return new Promise((resolve, reject) => this.queued.push({ method, params, resolve, reject }));
    }
    return this.run(method, params);
  }

  private run(method: string, params: unknown): Promise<unknown> {
    let r: unknown;
    try {
      r = this.route(method, params);
    } catch (err) {
      return Promise.reject(err);
    }
    if (r instanceof Overtakable) return r.result;
    if (!isThenable(r)) return Promise.resolve(r);
    const answer = Promise.resolve(r);
    this.busy = true;
    const next = () => {
      this.busy = false;
      this.drain();
    };
    answer.then(next, next);
    return answer;
  }

  private drain(): void {
    while (!this.busy && this.queued.length > 0) {
      const q = this.queued.shift()!;
      this.run(q.method, q.params).then(q.resolve, q.reject);
    }
  }

  private route(method: string, params: unknown): unknown {
    if (method === Initialize.method) return this.initialize(params);
    if (method === HttpRequest.method) throw new RpcError(ErrorCode.MethodNotFound, HTTP_REQUEST_REFUSAL);
    const kind = METHOD_GROUP.get(method);
    if (!kind) throw new RpcError(ErrorCode.MethodNotFound, `method not found: \`${clip(method)}\``);
    if (this.phase === 'new') throw invalidRequest(`client must call initialize before using ${kind} methods`);
    if (this.phase === 'awaitingInitialized') throw invalidRequest(`client must send initialized before using ${kind} methods`);
    if (this.phase === 'closed') throw invalidRequest('connection is closed');
    const handler = this.methods[method];
    if (!handler) throw new RpcError(ErrorCode.MethodNotFound, `method not found: \`${clip(method)}\``);
    return handler(params);
  }

  /** Notifications: only `initialized` exists; anything else ends the connection. */
  handleNotification(method: string): void {
    if (method !== Initialized.method) throw new ProtocolViolation(`unexpected notification \`${clip(method)}\``);
    if (this.phase === 'new') throw new ProtocolViolation('`initialized` sent before `initialize`');
    if (this.phase === 'awaitingInitialized') this.phase = 'ready';
    // A repeated `initialized` is harmless and ignored, as upstream does.
  }

  /** The transport closed: detach (upstream) or end (seed) the session, free file handles. */
  dispose(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.session?.detach();
    void this.fs.dispose();
  }

  private initialize(raw: unknown): InitializeResult {
    if (this.phase !== 'new') throw invalidRequest('initialize may only be sent once per connection');
    if (this.server.isShuttingDown) throw invalidRequest('server is shutting down');
    const q = Params.of(raw, 'InitializeParams');
    const clientName = q.string('clientName');
    const resumeKey = q.has('resumeSessionId');
    const resumeId = q.optString('resumeSessionId');
    let session: Session;
    if (resumeId !== undefined) {
      const found = this.server.findSession(resumeId);
      if (!found) throw invalidRequest(`unknown session id ${clip(resumeId)}`);
      if (found.channel) {
        throw new RpcError(ErrorCode.SessionAttached, `session ${clip(resumeId)} is already attached to another connection`);
      }
      session = found;
    } else {
      session = this.server.createSession(clientName, resumeKey);
    }
    session.attach(this.channel);
    this.session = session;
    this.methods = {
      ...createProcessMethods(session, this.server.registry, this.server.config),
      ...this.fs.methods,
      ...createEnvironmentMethods(() => this.environmentInfo()),
    };
    this.phase = 'awaitingInitialized';
    return { protocolVersion: PROTOCOL_VERSION, sessionId: session.id, environmentInfo: this.environmentInfo() };
  }

  private environmentInfo() {
    const sandbox = sandboxFor(this.server.config).status();
    return buildEnvironmentInfo({ cwd: process.cwd(), executorVersion: this.server.config.executorVersion, sandbox });
  }
}

const HTTP_REQUEST_REFUSAL =
  'http/request is not supported by this exec server: it runs processes and file operations ' +
  'and makes no HTTP requests on behalf of its clients';

/** Each request served after the handshake → its group, as upstream names it in handshake errors. */
const METHOD_GROUP = new Map<string, string>(REQUEST_GROUPS.flatMap(({ group, methods }) => methods.map((m) => [m.method, group] as const)));

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
