import { networkInterfaces } from 'node:os';
import { ConfigError, UnstorableEventError } from './errors';
import { isLoopbackHost } from './dingtalk-api';
import type { EventRecord } from './events';
import { jsonLine } from './log';
import { terminalSafe } from './terminal-safe';
import type { EventWriter, PutOutcome } from './store';
import { BadFrameError, callbackAnswer, dataFields, eventAck, frameRecord, pingAnswer, readFrame, unknownAnswer, type StreamFrame } from './stream-frames';
import type { StreamSettings } from './stream-settings';

/**
 * The Stream relay (docs/stream.md): holds a WebSocket to DingTalk's Stream gateway and, for each
 * event it sends, stores the record and only then acks `SUCCESS`; a failed or late put is acked
 * `LATER`, so DingTalk pushes the event again. One relay serves a function's lease, `listen` and
 * `npm start`. Node built-ins only: the WebSocket comes in through {@link Connect}.
 */

/** What a socket reports to the relay. */
export interface SocketEvents {
  open(): void;
  message(text: string): void;
  pong(): void;
  close(): void;
  error(error: Error): void;
}

/** The little of a WebSocket the relay uses. */
export interface RelaySocket {
  send(text: string): void;
  /** A WebSocket ping; the answering pong shows the socket is alive. */
  ping(): void;
  /** Closes at once (no closing handshake to wait for): `close` follows. */
  close(): void;
}

/** Opens a WebSocket to `url`, reporting to `events`. */
export type Connect = (url: string, events: SocketEvents) => RelaySocket;

/** The shape of the `ws` package's WebSocket class, which both clouds' functions and the CLI hand in. */
export type WsClass = new (url: string, options: { handshakeTimeout: number; maxPayload: number }) => {
  on(event: 'open' | 'pong', listener: () => void): unknown;
  on(event: 'message', listener: (data: { toString(): string }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  send(text: string): void;
  ping(): void;
  terminate(): void;
};

/** A {@link Connect} over the `ws` package's WebSocket. */
export function wsConnect(WebSocket: WsClass, handshakeTimeoutMs = 10_000): Connect {
  return (url, events) => {
    const socket = new WebSocket(url, { handshakeTimeout: handshakeTimeoutMs, maxPayload: 4 * 1024 * 1024 });
    socket.on('open', () => events.open());
    socket.on('message', (data) => events.message(data.toString()));
    socket.on('pong', () => events.pong());
    socket.on('close', () => events.close());
    socket.on('error', (error) => events.error(error));
    return {
      send: (text) => socket.send(text),
      ping: () => socket.ping(),
      close: () => socket.terminate(),
    };
  };
}

/** What happened to one EVENT or CALLBACK frame. */
export interface FrameOutcome {
  type: 'EVENT' | 'CALLBACK';
  messageId: string;
  eventType?: string;
  eventId?: string;
  /** The record's id, when one was made. */
  id?: string;
  /** `created` / `duplicate` (acked SUCCESS), `failed` (acked LATER, or a callback not stored), `unstorable` (logged and acked, never stored), `refused` (arrived while stopping: acked LATER). */
  outcome: PutOutcome | 'failed' | 'unstorable' | 'refused';
  /** From the frame's arrival to its answer being sent, store included. */
  ackMs: number;
  record?: EventRecord;
}

const OUTCOMES: Record<FrameOutcome['outcome'], string> = {
  created: 'stored',
  duplicate: 'duplicate (stored before)',
  failed: 'NOT STORED: the store failed; acked LATER, DingTalk sends it again',
  unstorable: 'NOT STORED: no record can be made of it (docs/stream.md); acked so that it does not come back',
  refused: 'not taken: stopping; acked LATER, DingTalk sends it again',
};

/** A frame's line for a terminal (`listen`, `npm start`): type, id (or messageId), what became of it; DingTalk's text escaped. */
export function frameLine(frame: FrameOutcome): string {
  const kind = frame.type === 'CALLBACK' ? 'robot message ' : '';
  return terminalSafe(`${kind}${frame.eventType ?? '?'}  ${frame.id ?? `messageId ${frame.messageId}`}  ${OUTCOMES[frame.outcome]}`);
}

/** What the relay reports as it goes: a line for the terminal (`listen`) or the log. */
export interface RelayStatus {
  state: 'connected' | 'reconnecting' | 'replacing' | 'retrying' | 'stopping' | 'stopped';
  message: string;
}

/** What a run did. */
export interface RelaySummary {
  /** `connections/open` calls made. */
  opens: number;
  /** Sockets that opened. */
  connections: number;
  created: number;
  duplicate: number;
  /** Acked LATER: DingTalk pushes them again. */
  later: number;
  unstorable: number;
  callbacks: number;
  badFrames: number;
  pings: number;
}

export interface RelayOptions {
  settings: StreamSettings;
  writer: EventWriter;
  connect: Connect;
  /** Epoch ms at which the relay stops taking frames, finishes what it holds and closes (a function's lease). */
  deadline?: number;
  /** Aborted: the same as the deadline, now (Ctrl-C). */
  signal?: AbortSignal;
  /** One JSON object per line; never a secret, never a frame's data. Default: stdout. */
  log?: (entry: object) => void;
  /** Each EVENT and CALLBACK as it is answered. */
  onFrame?: (outcome: FrameOutcome) => void;
  onStatus?: (status: RelayStatus) => void;
  /** For tests: the jitter's randomness. */
  random?: () => number;
}

/** Runs the relay until its deadline or signal; rejects (after closing) only when DingTalk refuses the credentials. */
export async function runRelay(options: RelayOptions): Promise<RelaySummary> {
  return new Relay(options).run();
}

/** `connections/open` refused the credentials: retrying cannot help. */
class RefusedError extends Error {}

interface Connection {
  seq: number;
  socket?: RelaySocket;
  open: boolean;
  openedAt: number;
  lastSeen: number;
  /** Replaced (disconnect, silence): no reconnect when it closes; closed once it holds nothing. */
  retired: boolean;
  inFlight: number;
  keepalive?: NodeJS.Timeout;
}

class Relay {
  private readonly timing;
  private readonly log: (entry: object) => void;
  private readonly summary: RelaySummary = { opens: 0, connections: 0, created: 0, duplicate: 0, later: 0, unstorable: 0, callbacks: 0, badFrames: 0, pings: 0 };
  private readonly connections = new Set<Connection>();
  private current?: Connection;
  private opening = false;
  private failures = 0;
  private seq = 0;
  private inFlight = 0;
  private readonly queue: Array<() => void> = [];
  private stopping = false;
  private fatal?: Error;
  private wake?: () => void;
  private finish?: () => void;
  private deadlineTimer?: NodeJS.Timeout;

  constructor(private readonly options: RelayOptions) {
    this.timing = options.settings.timing;
    this.log = options.log ?? jsonLine;
  }

  async run(): Promise<RelaySummary> {
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    const { deadline, signal } = this.options;
    const stop = () => this.stop();
    if (signal?.aborted) this.stop();
    signal?.addEventListener('abort', stop, { once: true });
    if (deadline !== undefined) this.deadlineTimer = setTimeout(stop, Math.max(0, deadline - Date.now()));
    void this.openNext(false);
    await done;
    signal?.removeEventListener('abort', stop);
    clearTimeout(this.deadlineTimer);
    this.log({ stream: 'summary', ...this.summary });
    if (this.fatal) throw this.fatal;
    return { ...this.summary };
  }

  private status(state: RelayStatus['state'], message: string): void {
    this.log({ stream: 'status', state, message });
    this.options.onStatus?.({ state, message });
  }

  /** Stops taking frames; once what is held is answered, closes every socket and ends the run. */
  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.deadlineTimer);
    this.wake?.();
    this.status('stopping', this.inFlight > 0 ? `stopping: answering ${this.inFlight} frame(s) in hand` : 'stopping');
    this.settle();
  }

  /** Ends the run once stopping and nothing is held. */
  private settle(): void {
    if (!this.stopping || this.inFlight > 0 || this.queue.length > 0 || this.opening) return;
    for (const connection of this.connections) this.closeConnection(connection);
    if (this.finish) {
      this.status('stopped', 'stopped');
      this.finish();
      this.finish = undefined;
    }
  }

  /**
   * Opens a connection (a fresh ticket, then the socket), trying again with backoff until one opens,
   * the run stops, or DingTalk refuses the credentials. `backoff`: wait before the first attempt too
   * (the last connection failed soon after it opened).
   */
  private async openNext(backoff: boolean): Promise<void> {
    if (this.opening || this.stopping) return;
    this.opening = true;
    try {
      let wait = backoff;
      while (!this.stopping) {
        if (wait) await this.sleep(this.backoffDelay());
        wait = true;
        if (this.stopping) break;
        try {
          const url = await this.ticketUrl();
          if (this.stopping) break;
          const connection = await this.connectTo(url);
          if (connection === undefined) this.failures += 1;
          else if (this.current === connection) return;
          // Retired before this loop saw it open (a disconnect right behind the handshake): open
          // another at once while it is still open; after a drop, back off.
          else wait = !connection.open;
        } catch (error) {
          if (error instanceof RefusedError) {
            this.fatal = new ConfigError(this.options.settings.secretVariable, `${error.message}: check it and ${this.options.settings.keyVariable} (the app's AppKey and AppSecret in DingTalk's developer console)`);
            this.status('stopping', this.fatal.message);
            this.opening = false;
            this.stop();
            return;
          }
          this.failures += 1;
          this.status('retrying', `could not open a Stream connection (${(error as Error).message}); trying again`);
        }
      }
    } finally {
      this.opening = false;
      this.settle();
    }
  }

  /** Full jitter over an exponential bound, capped: concurrent relays never reconnect in step. */
  private backoffDelay(): number {
    const { backoffMs, backoffCapMs } = this.timing;
    const bound = Math.min(backoffCapMs, backoffMs * 2 ** Math.min(this.failures, 20));
    return Math.round(bound / 2 + (bound / 2) * (this.options.random ?? Math.random)());
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** `POST /v1.0/gateway/connections/open`: the socket's URL with a one-time ticket. */
  private async ticketUrl(): Promise<string> {
    const { settings } = this.options;
    this.summary.opens += 1;
    let response: Response;
    try {
      response = await fetch(`${settings.endpoint}/v1.0/gateway/connections/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          clientId: settings.clientId,
          clientSecret: settings.clientSecret,
          subscriptions: [
            { type: 'EVENT', topic: '*' },
            { type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' },
          ],
          ua: 'dingtalk-callback',
          localIp: localIp(),
        }),
        signal: AbortSignal.timeout(this.timing.openTimeoutMs),
      });
    } catch (error) {
      throw new Error(`connections/open: ${(error as Error).name === 'TimeoutError' ? 'no answer in time' : 'unreachable'}`);
    }
    const text = await response.text().catch(() => '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* judged below */
    }
    const code = typeof body.code === 'string' ? ` ${body.code.replace(/[^\w.-]/g, '').slice(0, 80)}` : '';
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw new RefusedError(`DingTalk refused the credentials (connections/open: HTTP ${response.status}${code})`);
    }
    if (!response.ok) throw new Error(`connections/open: HTTP ${response.status}${code}`);
    const { endpoint, ticket } = body;
    if (typeof endpoint !== 'string' || typeof ticket !== 'string' || !/^wss?:\/\//.test(endpoint)) throw new Error('connections/open: the answer has no endpoint and ticket');
    const url = new URL(endpoint);
    if (url.protocol === 'ws:' && !isLoopbackHost(url.hostname)) throw new Error('connections/open: the endpoint is not wss://');
    url.searchParams.set('ticket', ticket);
    return url.toString();
  }

  /** Opens the socket; answers the connection when it opened, which then is (or was) the current one. */
  private async connectTo(url: string): Promise<Connection | undefined> {
    const connection: Connection = { seq: ++this.seq, open: false, openedAt: 0, lastSeen: Date.now(), retired: false, inFlight: 0 };
    const opened = await new Promise<boolean>((resolve) => {
      let settled = false;
      const result = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        result(false);
        connection.socket?.close();
      }, this.timing.openTimeoutMs);
      try {
        connection.socket = this.options.connect(url, {
          // Taken into service at once: the gateway may send a frame right behind the handshake.
          open: () => {
            if (!settled) this.opened(connection);
            result(true);
          },
          message: (text) => this.received(connection, text),
          pong: () => (connection.lastSeen = Date.now()),
          close: () => {
            result(false);
            this.closed(connection);
          },
          error: (error) => this.log({ stream: 'socket_error', connection: connection.seq, error: error.name }),
        });
      } catch {
        result(false);
      }
    });
    if (opened) return connection;
    this.status('retrying', 'the Stream socket did not open; trying again');
    return undefined;
  }

  /** A socket opened: it becomes the current connection, and the one it replaces closes once it holds nothing. */
  private opened(connection: Connection): void {
    connection.open = true;
    connection.openedAt = Date.now();
    connection.lastSeen = Date.now();
    this.connections.add(connection);
    this.summary.connections += 1;
    const previous = this.current;
    this.current = connection;
    connection.keepalive = setInterval(() => this.keepalive(connection), this.timing.keepaliveMs);
    this.status('connected', `connected to DingTalk Stream (connection ${connection.seq})`);
    if (previous && previous !== connection) this.retire(previous);
    for (const other of this.connections) if (other.retired) this.closeIfIdle(other);
    if (this.stopping) this.closeConnection(connection);
  }

  private keepalive(connection: Connection): void {
    if (Date.now() - connection.lastSeen > this.timing.silentMs) {
      this.status('replacing', `connection ${connection.seq} silent for over ${Math.round(this.timing.silentMs / 1000)} s: replacing it`);
      this.retire(connection);
      this.closeConnection(connection);
      void this.openNext(false);
      return;
    }
    try {
      connection.socket?.ping();
    } catch {
      /* a socket that cannot ping is found silent next time */
    }
  }

  /** Takes a connection out of service: no reconnect for it; it closes once it holds nothing. */
  private retire(connection: Connection): void {
    connection.retired = true;
    if (this.current === connection) this.current = undefined;
  }

  private closeIfIdle(connection: Connection): void {
    if (connection.retired && connection.inFlight === 0 && this.current !== undefined) this.closeConnection(connection);
  }

  private closeConnection(connection: Connection): void {
    clearInterval(connection.keepalive);
    if (!connection.open) return;
    connection.open = false;
    try {
      connection.socket?.close();
    } catch {
      /* closed already */
    }
  }

  /** A socket closed: unless it was retired or the run stops, open another (at once after a long life, with backoff after a short one). */
  private closed(connection: Connection): void {
    clearInterval(connection.keepalive);
    connection.open = false;
    if (!this.connections.delete(connection)) return;
    if (this.stopping) return this.settle();
    if (connection.retired) return; // whoever retired it has opened another
    this.retire(connection);
    const lived = Date.now() - connection.openedAt;
    if (lived >= this.timing.stableMs) this.failures = 0;
    else this.failures += 1;
    this.status('reconnecting', `connection ${connection.seq} closed: reconnecting`);
    void this.openNext(lived < this.timing.stableMs);
  }

  private received(connection: Connection, text: string): void {
    connection.lastSeen = Date.now();
    const arrived = performance.now();
    let frame: StreamFrame;
    try {
      frame = readFrame(text);
    } catch (error) {
      this.badFrame(error instanceof BadFrameError ? error.message : 'frame unreadable');
      return;
    }
    switch (frame.type) {
      case 'SYSTEM':
        return this.system(connection, frame);
      case 'EVENT':
      case 'CALLBACK':
        if (this.stopping && frame.type === 'EVENT') {
          this.answer(connection, eventAck(frame, 'LATER', 'receiver stopping'));
          this.summary.later += 1;
          return this.report({ type: 'EVENT', messageId: frame.messageId, eventType: frame.headers.eventType, eventId: frame.headers.eventId, outcome: 'refused', ackMs: performance.now() - arrived });
        }
        return this.take(connection, frame, arrived);
      default:
        this.badFrame('unknown frame type', frame.messageId);
        this.answer(connection, unknownAnswer(frame));
    }
  }

  private system(connection: Connection, frame: StreamFrame): void {
    if (frame.topic === 'ping') {
      this.summary.pings += 1;
      this.answer(connection, pingAnswer(frame));
    } else if (frame.topic === 'disconnect') {
      this.status('replacing', `DingTalk is closing connection ${connection.seq}: opening a new one`);
      this.retire(connection);
      void this.openNext(false);
    }
  }

  /** Processes a frame now if fewer than the bound are in hand, else once a slot frees. */
  private take(connection: Connection, frame: StreamFrame, arrived: number): void {
    connection.inFlight += 1;
    this.inFlight += 1;
    const run = () =>
      void this.process(connection, frame, arrived)
        .catch((error: unknown) => this.log({ stream: 'frame_error', messageId: frame.messageId, error: (error as Error)?.name ?? 'Error' }))
        .finally(() => this.done(connection));
    if (this.inFlight - this.queue.length <= this.timing.concurrency) run();
    else this.queue.push(run);
  }

  private done(connection: Connection): void {
    connection.inFlight -= 1;
    this.inFlight -= 1;
    this.queue.shift()?.();
    this.closeIfIdle(connection);
    this.settle();
  }

  private async process(connection: Connection, frame: StreamFrame, arrived: number): Promise<void> {
    const event = frame.type === 'EVENT';
    const base = { type: frame.type as 'EVENT' | 'CALLBACK', messageId: frame.messageId, eventType: event ? frame.headers.eventType : frame.topic, eventId: event ? frame.headers.eventId : undefined };
    const fields = dataFields(frame);
    const record = fields && frameRecord(frame, fields, (corpId) => this.options.settings.ownerKeyFor(corpId), new Date());
    if (!record) {
      this.badFrame(fields ? `${frame.type} frame has no ${event ? 'eventType header' : 'topic'}` : 'data is not JSON object text', frame.messageId);
      if (event) this.summary.unstorable += 1;
      this.answer(connection, event ? eventAck(frame, 'SUCCESS', 'unreadable: not stored') : callbackAnswer(frame, false));
      return this.report({ ...base, outcome: 'unstorable', ackMs: performance.now() - arrived });
    }
    const outcome = await this.put(record, arrived);
    const ok = outcome === 'created' || outcome === 'duplicate';
    if (event) {
      if (ok) this.summary[outcome] += 1;
      else if (outcome === 'unstorable') this.summary.unstorable += 1;
      else this.summary.later += 1;
      this.answer(connection, eventAck(frame, outcome === 'failed' ? 'LATER' : 'SUCCESS', outcome));
    } else {
      if (ok) this.summary.callbacks += 1;
      this.answer(connection, callbackAnswer(frame, ok));
    }
    this.report({ ...base, eventType: record.eventType, id: record.id, outcome, ackMs: performance.now() - arrived, record });
  }

  /** The put, cut short (as failed) when it would leave no time to ack within DingTalk's budget. */
  private async put(record: EventRecord, arrived: number): Promise<FrameOutcome['outcome']> {
    const left = this.timing.ackBudgetMs - this.timing.ackMarginMs - (performance.now() - arrived);
    if (left <= 0) return 'failed';
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'failed'>((resolve) => (timer = setTimeout(() => resolve('failed'), left)));
    try {
      return await Promise.race([this.options.writer.put(record), late]);
    } catch (error) {
      if (error instanceof UnstorableEventError) return 'unstorable';
      this.log({ stream: 'store_error', id: record.id, error: (error as Error)?.name ?? 'Error' });
      return 'failed';
    } finally {
      clearTimeout(timer);
    }
  }

  private answer(connection: Connection, text: string): void {
    if (!connection.open) return;
    try {
      connection.socket?.send(text);
    } catch {
      /* the socket is going: DingTalk pushes what was not acked again */
    }
  }

  private report(outcome: FrameOutcome): void {
    const { record, ...line } = outcome;
    this.log({ stream: 'frame', ...line, ackMs: Math.round(outcome.ackMs * 10) / 10 });
    this.options.onFrame?.(record ? outcome : line);
  }

  private badFrame(reason: string, messageId?: string): void {
    this.summary.badFrames += 1;
    this.log({ stream: 'bad_frame', reason, ...(messageId === undefined ? {} : { messageId }) });
  }
}

/** The first non-internal IPv4 address, which the open call reports (DingTalk's SDKs send it). */
function localIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}
