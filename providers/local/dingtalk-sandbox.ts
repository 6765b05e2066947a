import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open, seal } from '../../core/crypto';
import type { Environment } from '../../core/environment';
import { decodeAesKey } from '../../core/settings';
import { namesLocalServer } from '../../core/dingtalk-api';
import { DEV_CREDENTIALS, withDevCredentials } from './dev-credentials';

/**
 * A small local stand-in for DingTalk's server API (`oapi.dingtalk.com`), written from DingTalk's
 * documentation as docs/recover.md cites it, for `DINGTALK_SANDBOX=true` under `npm start` and for
 * the tests: a real HTTP server answering `gettoken`, `service/get_suite_token`,
 * `call_back/get_call_back_failed_result` (which deletes what it returns, 200 at most a call),
 * `topapi/callback/failrecord/list` (cursor, status, confirm) and the `call_back/*` registration
 * calls, which send a signed `check_url` to the URL as DingTalk does. One call of its own, which
 * DingTalk has not: `POST /sandbox/undelivered` parks a message in the failed list, as DingTalk
 * does once its retries of a push fail (`dingtalk-callback send --undelivered`).
 */

/** The variable that turns the sandbox on, for `npm start` and the CLI alike. */
export const SANDBOX_VARIABLE = 'DINGTALK_SANDBOX';

/** Where `npm start` serves the sandbox, and where the CLI looks for it. */
export const SANDBOX_PORT = 3003;

/** The path of the sandbox's own call that parks a message in the failed list. */
export const UNDELIVERED_PATH = 'sandbox/undelivered';

/**
 * The development app of the sandbox: what `DINGTALK_APP_KEY` and `DINGTALK_APP_SECRET` default to
 * with `DINGTALK_SANDBOX=true`. Its corp is the development credentials' ownerKey, so a recovered
 * event is filed under the same ownerKey as a push sent with them. Never deploy them.
 */
export const DEV_APP = {
  DINGTALK_APP_KEY: 'dingdevapp0000000000',
  DINGTALK_APP_SECRET: 'dingtalk-callback-dev-app-secret',
  corpId: DEV_CREDENTIALS.DINGTALK_OWNER_KEY,
} as const;

/** Whether `DINGTALK_SANDBOX` asks for the sandbox. */
export function sandboxOn(env: Environment): boolean {
  return env[SANDBOX_VARIABLE]?.trim().toLowerCase() === 'true';
}

/** The sandbox's base URL on this machine. */
export function sandboxUrl(port = SANDBOX_PORT): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * `env` pointed at the sandbox when `DINGTALK_SANDBOX=true`: `DINGTALK_API_BASE` (unless set) and,
 * when no app or suite is set, the development app's key and secret (and then the Stream relay off,
 * unless asked for: the sandbox has no Stream gateway); else `env` itself.
 */
export function withSandbox(env: Environment, port = SANDBOX_PORT): { env: Environment; sandbox: boolean } {
  if (!sandboxOn(env)) return { env, sandbox: false };
  const configured = ['DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET', 'DINGTALK_SUITE_KEY'].some((name) => env[name]?.trim());
  const app = configured ? {} : { DINGTALK_APP_KEY: DEV_APP.DINGTALK_APP_KEY, DINGTALK_APP_SECRET: DEV_APP.DINGTALK_APP_SECRET, DINGTALK_STREAM_ENABLED: env.DINGTALK_STREAM_ENABLED ?? 'false' };
  return { env: { ...env, ...app, DINGTALK_API_BASE: env.DINGTALK_API_BASE?.trim() || sandboxUrl(port) }, sandbox: true };
}

/**
 * What the CLI's DingTalk API commands read: with `DINGTALK_SANDBOX=true`, the development
 * credentials of `npm start` where none is set, pointed at the sandbox; else `env` itself.
 */
export function sandboxEnv(env: Environment): Environment {
  return sandboxOn(env) ? withSandbox(withDevCredentials(env).env).env : env;
}

/** An item of the corp failed list, as `get_call_back_failed_result` returns it. */
export type FailedListItem = Record<string, unknown> & { call_back_tag: string; event_time: number };

/** A failure record of an ISV suite, as `failrecord/list` returns it (and whether it is confirmed). */
export interface SuiteRecord {
  id: number;
  corpid: string;
  call_back_tag: string;
  call_back_data: string;
  event_time: number;
  confirmed: boolean;
}

/** A registered callback, as `call_back/get_call_back` answers it. */
export interface RegisteredCallback {
  call_back_tag: string[];
  token: string;
  aes_key: string;
  url: string;
}

/**
 * The failed-list item DingTalk keeps for a message it could not deliver: under its `EventType`,
 * an approval's fields in `bpmsCallBackData` beside the corp, any other event's own fields.
 */
export function failedItemOf(message: Record<string, unknown>, corpId: string, eventTime = Date.now()): FailedListItem {
  const tag = String(message.EventType);
  const data = tag.startsWith('bpms_') ? { corpid: corpId, bpmsCallBackData: message } : { corpid: corpId, ...message };
  return { call_back_tag: tag, event_time: eventTime, [tag]: data };
}

/**
 * Why a request is not one of this machine's tools (the CLI, npm start's functions, a script),
 * which send neither `Origin` nor `Sec-Fetch-Site`: a Host other than the sandbox's own (a
 * DNS-rebound name), or a browser's request made by a page (any other site may send a text/plain
 * POST, and would park a forged event for recover to store). A navigation typed in the address bar
 * (`Sec-Fetch-Site: none`) may read.
 */
function notFromThisMachine(request: IncomingMessage, port: string): { error: string; message: string } | undefined {
  if (!namesLocalServer(request.headers.host, port)) return { error: 'wrong_host', message: `the DingTalk sandbox answers at ${sandboxUrl(Number(port))} only` };
  const site = request.headers['sec-fetch-site'];
  if (request.headers.origin !== undefined || (site !== undefined && site !== 'none')) return { error: 'cross_origin', message: 'the DingTalk sandbox answers the tools of this machine, never a web page' };
  return undefined;
}

export class DingTalkSandbox {
  appKey: string = DEV_APP.DINGTALK_APP_KEY;
  appSecret: string = DEV_APP.DINGTALK_APP_SECRET;
  corpId: string = DEV_APP.corpId;
  suiteKey = 'suitedev000000000001';
  suiteSecret = `dev-suite-secret-${randomBytes(8).toString('hex')}`;
  suiteTicket = `ticket-${randomBytes(8).toString('hex')}`;
  /** Items `get_call_back_failed_result` serves (and deletes); edit freely. */
  readonly failed: FailedListItem[] = [];
  /** Records `failrecord/list` serves; they stay (7 days at DingTalk) and become confirmed. */
  readonly suiteRecords: SuiteRecord[] = [];
  /** At most this many items a failed-list call (DingTalk: 200). */
  pageSize = 200;
  tokenLifetimeSeconds = 7200;
  /** The text of every answer sent, with the path it answered. */
  readonly sent: Array<{ path: string; text: string }> = [];
  registered?: RegisteredCallback;
  /** Every request received: path, query and parsed body. */
  readonly calls: Array<{ path: string; query: Record<string, string>; body?: Record<string, unknown> }> = [];
  private readonly tokens = new Map<string, { kind: 'app' | 'suite'; expiresAt: number }>();
  private readonly server: Server = createServer((request, response) => void this.handle(request, response));
  url = '';

  /** Listens on `port` of 127.0.0.1 (0: one the OS picks). */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.url = sandboxUrl((this.server.address() as AddressInfo).port);
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Revokes every token issued: the next call with one is answered 40014, as DingTalk does. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** How many calls reached `path`. */
  count(path: string): number {
    return this.calls.filter((call) => call.path === path).length;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const refusal = notFromThisMachine(request, new URL(this.url).port);
    if (refusal) {
      response.writeHead(403, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(refusal));
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^\/+/, '');
    const query = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      return this.reply(response, { errcode: 40035, errmsg: '不合法的参数' });
    }
    this.calls.push({ path, query, body });
    await this.respond(response, path, query, body ?? {});
  }

  /** Answers one call; a subclass may answer otherwise (the tests' faults). */
  protected async respond(response: ServerResponse, path: string, query: Record<string, string>, body: Record<string, unknown>): Promise<void> {
    this.reply(response, await this.answer(path, query, body), path);
  }

  protected reply(response: ServerResponse, answer: object | string, path = ''): void {
    const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
    this.sent.push({ path, text });
    response.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(text);
  }

  /** The `expires_in` gettoken states. */
  protected statedLifetime(): number {
    return this.tokenLifetimeSeconds;
  }

  /** The items one failed-list call returns, taken off the list: "每次调用该接口会自动清除上一次调用所返回的failed_list". */
  protected takeFailed(): FailedListItem[] {
    return this.failed.splice(0, this.pageSize);
  }

  private issue(kind: 'app' | 'suite'): string {
    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, { kind, expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000 });
    return token;
  }

  private tokenIs(query: Record<string, string>, kind: 'app' | 'suite'): boolean {
    const token = this.tokens.get(query.access_token ?? '');
    return token !== undefined && token.kind === kind && token.expiresAt > Date.now();
  }

  protected async answer(path: string, query: Record<string, string>, body: Record<string, unknown>): Promise<object> {
    const badToken = { errcode: 40014, errmsg: '不合法的access_token' };
    switch (path) {
      case 'gettoken':
        if (query.appkey !== this.appKey || query.appsecret !== this.appSecret) return { errcode: 40089, errmsg: '不合法的corpid或corpsecret' };
        return { errcode: 0, errmsg: 'ok', access_token: this.issue('app'), expires_in: this.statedLifetime() };
      case 'service/get_suite_token':
        if (body.suite_key !== this.suiteKey || body.suite_secret !== this.suiteSecret) return { errcode: 40089, errmsg: '不合法的suiteKey或suiteSecret' };
        if (body.suite_ticket !== this.suiteTicket) return { errcode: 40078, errmsg: 'suite_ticket不合法' };
        return { errcode: 0, errmsg: 'ok', suite_access_token: this.issue('suite'), expires_in: this.tokenLifetimeSeconds };
      case 'call_back/get_call_back_failed_result': {
        if (!this.tokenIs(query, 'app')) return badToken;
        const failed_list = this.takeFailed();
        return { errcode: 0, errmsg: 'ok', has_more: this.failed.length > 0, failed_list };
      }
      case 'topapi/callback/failrecord/list':
        return this.tokenIs(query, 'suite') ? this.failRecords(body) : badToken;
      case 'call_back/register_call_back':
      case 'call_back/update_call_back': {
        if (!this.tokenIs(query, 'app')) return badToken;
        const exists = this.registered !== undefined;
        if (path.startsWith('call_back/register') && exists) return { errcode: 71006, errmsg: '回调地址已经存在' };
        if (path.startsWith('call_back/update') && !exists) return { errcode: 71007, errmsg: '回调地址不存在' };
        const callback = body as unknown as RegisteredCallback;
        if (!(await this.answersSuccess(callback))) return { errcode: 71009, errmsg: '返回文本非success' };
        this.registered = { call_back_tag: callback.call_back_tag, token: callback.token, aes_key: callback.aes_key, url: callback.url };
        return { errcode: 0, errmsg: 'ok' };
      }
      case 'call_back/get_call_back':
        if (!this.tokenIs(query, 'app')) return badToken;
        return this.registered ? { errcode: 0, errmsg: 'ok', ...this.registered } : { errcode: 71007, errmsg: '回调地址不存在' };
      case 'call_back/delete_call_back':
        if (!this.tokenIs(query, 'app')) return badToken;
        this.registered = undefined;
        return { errcode: 0, errmsg: 'ok' };
      case UNDELIVERED_PATH: {
        // The sandbox's own call: the message a push would have carried, parked as DingTalk parks it.
        if (typeof body.EventType !== 'string' || body.EventType.trim() === '') return { errcode: 40035, errmsg: 'the message needs an EventType' };
        this.failed.push(failedItemOf(body, this.corpId));
        return { errcode: 0, errmsg: 'ok', waiting: this.failed.length };
      }
      default:
        return { errcode: 22, errmsg: `Invalid method[${path}]` };
    }
  }

  /** `failrecord/list`: records of the tags after the cursor, by id, of the status asked, confirmed when asked. */
  private failRecords(body: Record<string, unknown>): object {
    const req = (body.req ?? {}) as { tags?: string[]; cursor?: number; status?: number; page_size?: number; confirm?: boolean };
    if (!Array.isArray(req.tags) || req.tags.length === 0) return { errcode: 400002, errmsg: 'tags不能为空' };
    const size = Math.min(req.page_size ?? 100, 100);
    const matching = this.suiteRecords
      .filter((record) => req.tags!.includes(record.call_back_tag) && record.id > (req.cursor ?? 0))
      .filter((record) => req.status === undefined || record.confirmed === (req.status === 0))
      .sort((a, b) => a.id - b.id);
    const page = matching.slice(0, size);
    if (req.confirm) for (const record of page) record.confirmed = true;
    const failed_list = page.map(({ confirmed: _confirmed, ...record }) => record);
    return { errcode: 0, errmsg: 'ok', has_more: matching.length > size, failed_list };
  }

  /** Sends `check_url` to the URL as DingTalk does and checks the answer decrypts to `success`. */
  private async answersSuccess(callback: RegisteredCallback): Promise<boolean> {
    try {
      const secrets = { token: callback.token, aesKey: decodeAesKey(callback.aes_key) };
      const envelope = seal(secrets, JSON.stringify({ EventType: 'check_url' }), this.corpId);
      const target = new URL(callback.url);
      target.search = new URLSearchParams({ signature: envelope.signature, timestamp: envelope.timestamp, nonce: envelope.nonce }).toString();
      const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ encrypt: envelope.encrypt }), signal: AbortSignal.timeout(3000) });
      const reply = (await response.json()) as { msg_signature: string; timeStamp: string; nonce: string; encrypt: string };
      const plain = open(secrets, { signature: reply.msg_signature, timestamp: reply.timeStamp, nonce: reply.nonce, encrypt: reply.encrypt });
      return plain.message.toString('utf8') === 'success';
    } catch {
      return false;
    }
  }
}
