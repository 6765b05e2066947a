import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { decodeAesKey } from '../core/settings';
import { open, seal } from '../core/crypto';
import { listenOnLoopback } from './ports';

/**
 * A stand-in for DingTalk's server API (`oapi.dingtalk.com`), written from DingTalk's documentation
 * as docs/recover.md cites it: a real HTTP server answering `gettoken`, `service/get_suite_token`,
 * `call_back/get_call_back_failed_result` (which deletes what it returns, 200 at most a call),
 * `topapi/callback/failrecord/list` (cursor, status, confirm) and the `call_back/*` registration
 * calls, which send a signed `check_url` to the URL as DingTalk does. It can fail a call on demand.
 */

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

/**
 * How a call fails: HTTP 500, DingTalk's "busy" errcode -1, or no answer at all; or, hostile, a
 * failed-list page cut short (HTTP 200, the first half of its JSON: its items deleted all the same),
 * or an empty failed list that says `has_more: true`.
 */
export type FakeFault = 'http500' | 'errcode' | 'hang' | 'truncated' | 'empty-has-more';

/** A registered callback, as `call_back/get_call_back` answers it. */
export interface RegisteredCallback {
  call_back_tag: string[];
  token: string;
  aes_key: string;
  url: string;
}

export class FakeDingTalk {
  appKey = 'dingfakeappkey00001';
  appSecret = `fake-app-secret-${randomBytes(8).toString('hex')}`;
  corpId = 'dingfakecorp0000001';
  suiteKey = 'suitefake0000000001';
  suiteSecret = `fake-suite-secret-${randomBytes(8).toString('hex')}`;
  suiteTicket = `ticket-${randomBytes(8).toString('hex')}`;
  /** Items `get_call_back_failed_result` serves (and deletes); edit freely. */
  readonly failed: FailedListItem[] = [];
  /** Records `failrecord/list` serves; they stay (7 days at DingTalk) and become confirmed. */
  readonly suiteRecords: SuiteRecord[] = [];
  /** Hostile: serve the same items again and again, never deleting what was returned. */
  forgetsNothing = false;
  /** At most this many items a failed-list call (DingTalk: 200). */
  pageSize = 200;
  tokenLifetimeSeconds = 7200;
  /** The `expires_in` gettoken states, when it should say other than the real lifetime (a hostile `0`). */
  statedLifetimeSeconds?: number;
  /** The errmsg of the 'errcode' fault (DingTalk's "busy"). */
  busyMessage = '系统繁忙';
  /** The text of every answer sent, with the path it answered. */
  readonly sent: Array<{ path: string; text: string }> = [];
  registered?: RegisteredCallback;
  /** Every request received: path, query and parsed body. */
  readonly calls: Array<{ path: string; query: Record<string, string>; body?: Record<string, unknown> }> = [];
  private readonly tokens = new Map<string, { kind: 'app' | 'suite'; expiresAt: number }>();
  private readonly faults = new Map<string, { fault: FakeFault; times: number; after: number }>();
  private readonly server: Server = createServer((request, response) => void this.handle(request, response));
  url = '';

  async start(): Promise<this> {
    this.url = await listenOnLoopback(this.server);
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /**
   * `times` calls of `path` (such as `call_back/get_call_back_failed_result`) fail this way, after
   * `after` more calls are answered normally.
   */
  fail(path: string, fault: FakeFault, times = 1, after = 0): void {
    this.faults.set(path, { fault, times, after });
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
    const fault = this.faults.get(path);
    if (fault && fault.after > 0) fault.after -= 1;
    else if (fault && fault.times > 0) {
      fault.times -= 1;
      if (fault.fault === 'hang') return; // never answered; stop() drops the connection
      if (fault.fault === 'http500') {
        response.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>500 Internal Server Error</body></html>');
        return;
      }
      if (fault.fault === 'truncated') {
        const whole = JSON.stringify(await this.answer(path, query, body ?? {}));
        return this.reply(response, whole.slice(0, Math.floor(whole.length / 2)), path);
      }
      if (fault.fault === 'empty-has-more') return this.reply(response, { errcode: 0, errmsg: 'ok', has_more: true, failed_list: [] }, path);
      return this.reply(response, { errcode: -1, errmsg: this.busyMessage }, path);
    }
    this.reply(response, await this.answer(path, query, body ?? {}), path);
  }

  private reply(response: ServerResponse, answer: object | string, path = ''): void {
    const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
    this.sent.push({ path, text });
    response.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(text);
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

  private async answer(path: string, query: Record<string, string>, body: Record<string, unknown>): Promise<object> {
    const badToken = { errcode: 40014, errmsg: '不合法的access_token' };
    switch (path) {
      case 'gettoken':
        if (query.appkey !== this.appKey || query.appsecret !== this.appSecret) return { errcode: 40089, errmsg: '不合法的corpid或corpsecret' };
        return { errcode: 0, errmsg: 'ok', access_token: this.issue('app'), expires_in: this.statedLifetimeSeconds ?? this.tokenLifetimeSeconds };
      case 'service/get_suite_token':
        if (body.suite_key !== this.suiteKey || body.suite_secret !== this.suiteSecret) return { errcode: 40089, errmsg: '不合法的suiteKey或suiteSecret' };
        if (body.suite_ticket !== this.suiteTicket) return { errcode: 40078, errmsg: 'suite_ticket不合法' };
        return { errcode: 0, errmsg: 'ok', suite_access_token: this.issue('suite'), expires_in: this.tokenLifetimeSeconds };
      case 'call_back/get_call_back_failed_result': {
        if (!this.tokenIs(query, 'app')) return badToken;
        // "每次调用该接口会自动清除上一次调用所返回的failed_list": what is returned is gone.
        const failed_list = this.forgetsNothing ? this.failed.slice(0, this.pageSize) : this.failed.splice(0, this.pageSize);
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

const TITLES = ['张三提交的请假申请 🌴', '李四提交的报销申请 💰', '王五提交的出差申请 ✈️', '赵六提交的采购申请 📦'];

/** A corp failed-list item of an approval, as DingTalk documents it (`bpmsCallBackData`), Chinese and emoji included. */
export function approvalItem(n: number, corpId: string, eventTime = 1_764_000_000_000 + n * 1000): FailedListItem {
  return {
    call_back_tag: 'bpms_instance_change',
    event_time: eventTime,
    bpms_instance_change: {
      corpid: corpId,
      bpmsCallBackData: {
        processInstanceId: `proc-${String(n).padStart(6, '0')}`,
        corpId,
        createTime: eventTime - 60_000,
        finishTime: eventTime,
        title: TITLES[n % TITLES.length],
        type: 'finish',
        staffId: `user${n}`,
        result: 'agree',
        remark: '同意，注意交接工作 👍',
        processCode: 'PROC-FF6Y4BE1N2-B3OQZGC9RLR4SY1MTNLQ1-91IKFUAJ-4',
        EventType: 'bpms_instance_change',
      },
    },
  };
}

/** A corp failed-list item of a contact change (the event's own fields beside `corpid`). */
export function contactItem(n: number, corpId: string, eventTime = 1_764_000_000_000 + n * 1000): FailedListItem {
  return { call_back_tag: 'user_add_org', event_time: eventTime, user_add_org: { corpid: corpId, userid: [`user${n}`], 姓名: '钱七' } };
}

/** A corp failed-list item whose data carries DingTalk's own `eventId`, as newer events do. */
export function eventIdItem(eventId: string, corpId: string, eventTime = 1_764_000_000_000): FailedListItem {
  return { call_back_tag: 'org_dept_create', event_time: eventTime, org_dept_create: { corpid: corpId, eventId, DeptId: [4096], 名称: '研发部 🚀' } };
}
