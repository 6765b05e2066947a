import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { listenOnLoopback } from './ports';

/**
 * A stand-in for DingTalk's Stream gateway, written from the protocol (docs/stream.md): the HTTP
 * `POST /v1.0/gateway/connections/open` that trades an app's key and secret for a one-time,
 * expiring ticket, and a WebSocket server at `/connect?ticket=…` speaking the frames. It pushes
 * EVENT and CALLBACK frames (each EVENT to a random open connection, as DingTalk does), sends SYSTEM
 * `ping` and `disconnect`, records every answer, and pushes an event again, with a new messageId,
 * when it was not acked `SUCCESS` (acked `LATER`, or not at all) within {@link redeliverAfterMs}.
 * It can refuse tickets for a while, drop a socket, or let one go silent.
 */

/** An event to push: DingTalk's headers come from these, `data` is the business fields as JSON text. */
export interface StreamEventInput {
  eventType: string;
  eventId?: string;
  corpId?: string;
  bornTime?: number;
  /** The frame's `data`: JSON text of the business fields (anything, to be hostile). */
  data: string;
  /** Extra or replaced headers (a test of odd frames). */
  headers?: Record<string, string>;
}

/** One answer the gateway received to a frame it sent. */
export interface StreamAck {
  messageId: string;
  connectionId: string;
  /** The EVENT's eventId, when the frame was one. */
  eventId?: string;
  /** `SUCCESS`, `LATER`, or what a CALLBACK/ping answer carried (`response`, `ping`). */
  status: string;
  code: number;
  /** The answer's `data` text. */
  data: string;
  at: number;
}

/** An event the gateway owes a `SUCCESS` for. */
interface Pending {
  input: StreamEventInput;
  eventId: string;
  deliveries: number;
  acked: boolean;
  timer?: NodeJS.Timeout;
}

/** One open connection of a client. */
export interface GatewayConnection {
  id: string;
  clientId: string;
  socket: WebSocket;
  /** Silent: sends nothing more and answers no WebSocket ping. */
  silent: boolean;
  openedAt: number;
  closedAt?: number;
}

export class FakeStreamGateway {
  clientId = 'dingstreamfakeapp01';
  clientSecret = `fake-stream-secret-${randomBytes(8).toString('hex')}`;
  appId = 'fake-app-id-0001';
  corpId = 'dingfakecorp0000001';
  /** How long a ticket is good for (DingTalk: 90 s). */
  ticketTtlMs = 90_000;
  /** An event not acked SUCCESS is pushed again this long after its delivery (DingTalk: about a minute). */
  redeliverAfterMs = 60_000;
  /** After a `disconnect` frame, the gateway closes the socket this long after (DingTalk: about 10 s). */
  disconnectCloseMs = 10_000;
  /** While true, every socket is cut as soon as it opens (a gateway that accepts and drops). */
  dropOnConnect = false;
  /** Every `connections/open` call, answered or not. */
  opens = 0;
  /** Tickets handed out. */
  ticketsIssued = 0;
  /** Every answer received, in order. */
  readonly acks: StreamAck[] = [];
  /** Every connection ever made, open or closed. */
  readonly connections: GatewayConnection[] = [];
  /** Bodies of the open calls, as received (tests check what the client sent; never logged). */
  readonly openRequests: Record<string, unknown>[] = [];

  private server?: Server;
  private wss?: WebSocketServer;
  private base = '';
  private readonly tickets = new Map<string, { clientId: string; expires: number }>();
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Map<string, { eventId?: string; connectionId: string }>();
  private refuseUntil = 0;
  private refuseStatus = 503;
  private readonly waiters = new Set<() => void>();

  /** Starts the gateway on 127.0.0.1; answers the API base the relay takes (`DINGTALK_OPENAPI_ENDPOINT`). */
  async start(): Promise<string> {
    this.wss = new WebSocketServer({ noServer: true, autoPong: false });
    this.server = createServer((request, response) => void this.answer(request, response));
    this.server.on('upgrade', (request, socket, head) => this.upgrade(request, socket, head));
    this.base = await listenOnLoopback(this.server);
    return this.base;
  }

  async close(): Promise<void> {
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    for (const connection of this.connections) connection.socket.terminate();
    await new Promise<void>((resolve) => this.wss?.close(() => resolve()) ?? resolve());
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** Answers `connections/open` with `status` (503 by default) for the next `ms`. */
  refuseFor(ms: number, status = 503): void {
    this.refuseUntil = Date.now() + ms;
    this.refuseStatus = status;
  }

  /** The connections open now. */
  get open(): GatewayConnection[] {
    return this.connections.filter((connection) => connection.closedAt === undefined);
  }

  /**
   * Pushes an EVENT to a random open connection (or to `connection`); the gateway owes it until it
   * is acked SUCCESS, pushing it again as DingTalk does. Answers its eventId.
   */
  push(input: StreamEventInput, connection?: GatewayConnection): string {
    const eventId = input.eventId ?? randomUUID().replaceAll('-', '');
    const pending: Pending = { input, eventId, deliveries: 0, acked: false };
    this.pending.set(eventId, pending);
    this.deliver(pending, connection);
    return eventId;
  }

  /** Pushes a CALLBACK frame (a robot message): answered once, never pushed again. Answers its messageId. */
  pushCallback(data: string, topic = '/v1.0/im/bot/messages/get', connection = this.pick()): string {
    const messageId = randomUUID();
    if (!connection) throw new Error('no open connection for the callback');
    this.inFlight.set(messageId, { connectionId: connection.id });
    this.send(connection, { specVersion: '1.0', type: 'CALLBACK', headers: { ...this.baseHeaders(connection, messageId, topic) }, data });
    return messageId;
  }

  /** Sends a SYSTEM ping; answers its messageId. */
  ping(connection: GatewayConnection, opaque: string = randomUUID()): string {
    const messageId = randomUUID();
    this.inFlight.set(messageId, { connectionId: connection.id });
    this.send(connection, { specVersion: '1.0', type: 'SYSTEM', headers: this.baseHeaders(connection, messageId, 'ping'), data: JSON.stringify({ opaque }) });
    return messageId;
  }

  /** Sends a SYSTEM disconnect, then closes the socket {@link disconnectCloseMs} later, as DingTalk does. */
  disconnect(connection: GatewayConnection): void {
    this.send(connection, { specVersion: '1.0', type: 'SYSTEM', headers: this.baseHeaders(connection, randomUUID(), 'disconnect'), data: JSON.stringify({ reason: 'gateway maintenance' }) });
    setTimeout(() => connection.socket.close(1000, 'disconnect'), this.disconnectCloseMs).unref();
  }

  /** Sends raw text on a connection (a hostile frame). */
  sendRaw(connection: GatewayConnection, text: string): void {
    if (!connection.silent) connection.socket.send(text);
  }

  /** Cuts a connection without a close frame, as a network drop does. */
  drop(connection: GatewayConnection): void {
    connection.socket.terminate();
  }

  /** Lets a connection go silent: nothing sent on it any more, no pong answered; the socket stays open. */
  silence(connection: GatewayConnection): void {
    connection.silent = true;
  }

  /** Events pushed and not yet acked SUCCESS. */
  get unacked(): number {
    let count = 0;
    for (const pending of this.pending.values()) if (!pending.acked) count += 1;
    return count;
  }

  /** How many times an event was delivered (first push and re-pushes). */
  deliveries(eventId: string): number {
    return this.pending.get(eventId)?.deliveries ?? 0;
  }

  /** The acks of one status. */
  acksWith(status: string): StreamAck[] {
    return this.acks.filter((ack) => ack.status === status);
  }

  /** Resolves once `condition` holds (checked on every ack, connection and close), or rejects after `timeoutMs`. */
  async until(condition: () => boolean, timeoutMs = 10_000, what = 'the gateway condition'): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private pick(): GatewayConnection | undefined {
    const open = this.open.filter((connection) => connection.socket.readyState === WebSocket.OPEN);
    return open[Math.floor(Math.random() * open.length)];
  }

  /** Delivers (again) an event owed; with no connection open, tries again a little later. */
  private deliver(pending: Pending, chosen?: GatewayConnection): void {
    if (pending.acked) return;
    const connection = chosen && chosen.closedAt === undefined ? chosen : this.pick();
    if (!connection) {
      pending.timer = setTimeout(() => this.deliver(pending), 20);
      pending.timer.unref();
      return;
    }
    const { input } = pending;
    const messageId = randomUUID();
    pending.deliveries += 1;
    this.inFlight.set(messageId, { eventId: pending.eventId, connectionId: connection.id });
    const headers: Record<string, string> = {
      ...this.baseHeaders(connection, messageId, '*'),
      eventId: pending.eventId,
      eventBornTime: String(input.bornTime ?? Date.now()),
      eventCorpId: input.corpId ?? this.corpId,
      eventType: input.eventType,
      eventUnifiedAppId: this.appId,
      ...input.headers,
    };
    this.send(connection, { specVersion: '1.0', type: 'EVENT', headers, data: input.data });
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => this.deliver(pending), this.redeliverAfterMs);
    pending.timer.unref();
  }

  private baseHeaders(connection: GatewayConnection, messageId: string, topic: string): Record<string, string> {
    return { appId: this.appId, connectionId: connection.id, contentType: 'application/json', messageId, time: String(Date.now()), topic };
  }

  private send(connection: GatewayConnection, frame: object): void {
    if (connection.silent || connection.socket.readyState !== WebSocket.OPEN) return;
    connection.socket.send(JSON.stringify(frame));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const reply = (status: number, body: object) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/v1.0/gateway/connections/open') return reply(404, { code: 'NotFound', message: 'no such API' });
    this.opens += 1;
    this.notify();
    if (!String(request.headers.accept ?? '').includes('application/json')) {
      response.writeHead(200, { 'content-type': 'application/xml' });
      return void response.end('<OpenConnectionResponse><code>NeedJson</code></OpenConnectionResponse>');
    }
    if (Date.now() < this.refuseUntil) return reply(this.refuseStatus, { code: 'ServiceUnavailable', message: 'the gateway is busy, try again later' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return reply(400, { code: 'InvalidParameter', message: 'the body is not JSON' });
    }
    this.openRequests.push(body);
    if (body.clientId !== this.clientId || body.clientSecret !== this.clientSecret) {
      return reply(401, { code: 'InvalidAuthentication', message: 'clientId or clientSecret is wrong' });
    }
    const ticket = randomUUID();
    this.ticketsIssued += 1;
    this.tickets.set(ticket, { clientId: this.clientId, expires: Date.now() + this.ticketTtlMs });
    reply(200, { endpoint: `${this.base.replace(/^http/, 'ws')}/connect`, ticket });
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', this.base);
    const ticket = url.searchParams.get('ticket') ?? '';
    const issued = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    if (url.pathname !== '/connect' || !issued || issued.expires < Date.now()) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss!.handleUpgrade(request, socket, head, (ws) => {
      const connection: GatewayConnection = { id: randomUUID(), clientId: issued.clientId, socket: ws, silent: false, openedAt: Date.now() };
      this.connections.push(connection);
      if (this.dropOnConnect) setImmediate(() => ws.terminate());
      ws.on('ping', (data) => {
        if (!connection.silent) ws.pong(data);
      });
      ws.on('message', (raw) => this.received(connection, raw.toString()));
      ws.on('close', () => {
        connection.closedAt = Date.now();
        this.notify();
      });
      this.notify();
    });
  }

  /** An answer from the client: recorded; an EVENT's SUCCESS settles it, a LATER has it pushed again after the delay. */
  private received(connection: GatewayConnection, text: string): void {
    let answer: { code?: number; headers?: { messageId?: string }; data?: string };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      return;
    }
    const messageId = answer.headers?.messageId ?? '';
    const sent = this.inFlight.get(messageId);
    if (!sent) return;
    this.inFlight.delete(messageId);
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(answer.data ?? '{}') as Record<string, unknown>;
    } catch {
      /* recorded as it came */
    }
    const status = typeof data.status === 'string' ? data.status : 'response' in data ? 'response' : 'opaque' in data ? 'ping' : 'unknown';
    this.acks.push({ messageId, connectionId: connection.id, eventId: sent.eventId, status, code: answer.code ?? 0, data: answer.data ?? '', at: Date.now() });
    const pending = sent.eventId === undefined ? undefined : this.pending.get(sent.eventId);
    if (pending && status === 'SUCCESS') {
      pending.acked = true;
      clearTimeout(pending.timer);
    }
    this.notify();
  }
}
