import {
  AbstractMessageReader,
  AbstractMessageWriter,
  Disposable,
  type DataCallback,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-jsonrpc/node';

/** Feeds already-framed, already-parsed messages to vscode-jsonrpc (framing is the transport's). */
export class PushMessageReader extends AbstractMessageReader implements MessageReader {
  private callback: DataCallback | undefined;
  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    return Disposable.create(() => (this.callback = undefined));
  }
  push(message: Message): void {
    this.callback?.(message);
  }
}

/** Writes vscode-jsonrpc's messages as frames, without `"jsonrpc"` (the seed's wire form). */
export class FrameMessageWriter extends AbstractMessageWriter implements MessageWriter {
  constructor(private readonly send: (text: string) => void) {
    super();
  }
  async write(message: Message): Promise<void> {
    const { jsonrpc: _omit, ...rest } = message as Message & Record<string, unknown>;
    this.send(JSON.stringify(rest));
  }
  end(): void {}
}
