/**
 * What a transport offers the server for one connection: a way to push notifications and a
 * congestion signal. Notifications about output carry raw Buffers in `chunk`; the
 * transport encodes them (base64 for JSON transports, nothing in-process).
 */
export interface ClientChannel {
  notify(method: string, params: object): void;
  /** True while the peer has more unsent bytes than the transport's high-water mark. */
  readonly congested: boolean;
  /** Call `cb` once, when the backlog has drained (immediately if not congested). */
  onceDrained(cb: () => void): void;
  /** Close the connection because the peer broke the protocol. */
  close(code: number, reason: string): void;
}
