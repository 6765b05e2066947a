/**
 * A small client for the DingTalk server API the recover pass and the CLI call (docs/recover.md):
 * JSON over HTTPS at `DINGTALK_API_BASE`, answers shaped `{errcode, errmsg, …}`. Errors name the
 * step and what DingTalk said, never a URL, so no access token or secret reaches a message.
 */

/** DingTalk's public API endpoint, the default of `DINGTALK_API_BASE`. */
export const DEFAULT_API_BASE = 'https://oapi.dingtalk.com';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether a URL's host is this machine, the only place plain `http://` or `ws://` may go: nothing
 * crosses a network there (a local stand-in for DingTalk, a local webhook receiver).
 */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/**
 * Whether a request's `Host` header names a server of this machine listening on `port` by the names
 * it answers at (`127.0.0.1`, `localhost`): any other name is a DNS-rebound one, and a local page
 * or stand-in refuses it.
 */
export function namesLocalServer(host: string | undefined, port: number | string): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/**
 * Checks an API base (`DINGTALK_API_BASE`): an `https://` URL, or `http://` to this machine only,
 * since the app secret travels in its query; never with a user or password in it, which node would
 * quote, secret and all, in its errors.
 * @returns the problem, or undefined when there is none.
 */
export function apiBaseProblem(base: string): string | undefined {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return 'must be an https URL such as https://oapi.dingtalk.com';
  }
  if (url.search !== '' || url.hash !== '') return 'must not carry a query or fragment: API paths are appended to it';
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password (user:pass@): DingTalk takes none, and they would show in error messages';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === 'http:') return `must be https (plain http is allowed to localhost, 127.0.0.1 and [::1] only): the app secret travels in it`;
  return 'must be an https URL such as https://oapi.dingtalk.com';
}

/** How long one call may take before it counts as failed. */
export const DEFAULT_API_TIMEOUT_MS = 10_000;

/** Renew a token this long before DingTalk says it expires, so none expires mid-run. */
const TOKEN_MARGIN_MS = 5 * 60_000;

/** DingTalk's documented token lifetime, taken when a reply states none that can be used. */
const DEFAULT_TOKEN_SECONDS = 7200;

/**
 * How long to keep a token DingTalk said lives `expiresIn` seconds: that less the margin (at most
 * half of it). A lifetime that is no positive number (`expires_in: 0`, missing, text) is taken as
 * DingTalk's documented 7,200 s rather than as "renew at every call", which would spend a token
 * call on every API call; a token DingTalk calls stale is renewed anyway (below).
 */
function keepFor(expiresIn: unknown): number {
  const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_SECONDS;
  return seconds * 1000 - Math.min(TOKEN_MARGIN_MS, (seconds * 1000) / 2);
}

/** errcodes saying the access token is no longer good: fetch a new one and try again once. */
const STALE_TOKEN_CODES = new Set([40001, 40014, 42001]);

/** A DingTalk answer with `errcode` 0. */
export type DingTalkReply = Record<string, unknown> & { errcode?: number; errmsg?: string };

/** A failed DingTalk call: the step, and DingTalk's errcode and errmsg or the HTTP status. */
export class DingTalkApiError extends Error {
  override name = 'DingTalkApiError';
  constructor(
    /** The API called, such as `gettoken` or `call_back/get_call_back_failed_result`. */
    readonly step: string,
    /** What went wrong, in DingTalk's words where it gave any. */
    readonly detail: string,
    readonly errcode?: number,
    readonly httpStatus?: number,
    options?: { cause?: unknown; unreadable?: boolean },
  ) {
    super(`${step}: ${detail}`, options);
    this.unreadable = options?.unreadable ?? false;
  }

  /** The answer came (HTTP 200) but is no JSON object: nothing to retry, what it held is unknown. */
  readonly unreadable: boolean;

  /** DingTalk answered with an errcode: the request arrived and was refused (except -1, "busy"). */
  get refused(): boolean {
    return this.errcode !== undefined && this.errcode !== -1;
  }
}

export interface DingTalkApiOptions {
  /** Default {@link DEFAULT_API_BASE}. */
  base?: string;
  /** Default {@link DEFAULT_API_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** One DingTalk API endpoint: GET and POST with the `errcode` convention checked. */
export class DingTalkApi {
  readonly base: string;
  /** The base as messages show it: without a user or password, should it carry one. */
  private readonly shown: string;
  private readonly timeoutMs: number;

  constructor({ base = DEFAULT_API_BASE, timeoutMs = DEFAULT_API_TIMEOUT_MS }: DingTalkApiOptions = {}) {
    this.base = base.replace(/\/+$/, '');
    this.shown = this.base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
    this.timeoutMs = timeoutMs;
  }

  /**
   * Calls `path` with `query` (and a JSON `body`: a POST), and answers the reply's text and its parse.
   * The text is kept because a failed-list reply is stored as DingTalk sent it: `keep` is given it
   * before anything else is done with it.
   * @throws DingTalkApiError for a network failure, a timeout, an HTTP status other than 200, a body
   *   that is not a JSON object (`unreadable`), or an `errcode` other than 0.
   */
  async call(path: string, query: Record<string, string>, body?: unknown, keep?: (text: string) => Promise<void>): Promise<{ text: string; reply: DingTalkReply }> {
    const text = await this.fetchText(path, query, body);
    await keep?.(text);
    return { text, reply: this.readReply(path, text) };
  }

  /** The text of an HTTP 200 answer. @throws DingTalkApiError naming the base, never the URL. */
  private async fetchText(path: string, query: Record<string, string>, body?: unknown): Promise<string> {
    const url = `${this.base}/${path}?${new URLSearchParams(query)}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      const timedOut = (cause as Error).name === 'TimeoutError';
      // The URL carries the token or the secret, and node quotes it in some errors: say where, and
      // why in words with every URL taken out; the error itself is not kept as the cause.
      const detail = timedOut ? `no answer from ${this.shown} within ${this.timeoutMs} ms` : `cannot reach ${this.shown} (${networkReason(cause)})`;
      throw new DingTalkApiError(path, detail);
    }
    if (response.status !== 200) throw new DingTalkApiError(path, `HTTP ${response.status} from ${this.shown}`, undefined, response.status);
    return text;
  }

  private readReply(path: string, text: string): DingTalkReply {
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      reply = undefined;
    }
    if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) throw new DingTalkApiError(path, `the answer from ${this.shown} is not a JSON object`, undefined, undefined, { unreadable: true });
    const { errcode, errmsg } = reply as DingTalkReply;
    if (errcode !== undefined && errcode !== 0) {
      throw new DingTalkApiError(path, `DingTalk errcode ${errcode}: ${typeof errmsg === 'string' ? errmsg : ''}`.trimEnd(), Number(errcode));
    }
    return reply as DingTalkReply;
  }
}

/** Why a request failed, in words with every URL in them taken out (node quotes the URL, secret and all, in some). */
function networkReason(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
  const reason = inner?.code ?? inner?.message ?? (cause as Error).message ?? String(cause);
  return reason.replace(/[a-z][a-z0-9+.-]*:\/\/\S*/gi, '<URL>');
}

/** The app credentials an access token is made from. */
export type AppCredentials =
  /** An internal app (or a corp's own callbacks): `gettoken?appkey&appsecret`. */
  | { kind: 'app'; appKey: string; appSecret: string }
  /** An ISV suite: `service/get_suite_token` with the newest `suite_ticket` DingTalk pushed. */
  | { kind: 'suite'; suiteKey: string; suiteSecret: string; suiteTicket: () => Promise<string> };

/**
 * An access token, fetched when first needed and kept for its lifetime (DingTalk's `expires_in`,
 * 7200 s, less five minutes): on the standard edition every call counts (docs/recover.md).
 */
export class AccessToken {
  private current?: { token: string; expiresAt: number };

  constructor(
    private readonly api: DingTalkApi,
    private readonly credentials: AppCredentials,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached token, or a fresh one. @throws DingTalkApiError naming the token step. */
  async get(): Promise<string> {
    if (this.current && this.current.expiresAt > this.now()) return this.current.token;
    const { credentials } = this;
    const { reply } =
      credentials.kind === 'app'
        ? await this.api.call('gettoken', { appkey: credentials.appKey, appsecret: credentials.appSecret })
        : await this.api.call('service/get_suite_token', {}, { suite_key: credentials.suiteKey, suite_secret: credentials.suiteSecret, suite_ticket: await credentials.suiteTicket() });
    const token = credentials.kind === 'app' ? reply.access_token : reply.suite_access_token;
    if (typeof token !== 'string' || token === '') throw new DingTalkApiError(credentials.kind === 'app' ? 'gettoken' : 'service/get_suite_token', 'the answer carries no token');
    this.current = { token, expiresAt: this.now() + keepFor(reply.expires_in) };
    return token;
  }

  /** Forgets the token, after DingTalk called it stale. */
  drop(): void {
    this.current = undefined;
  }

  /**
   * Calls `path` with the token as `access_token` (`keep` as {@link DingTalkApi.call} takes it);
   * when DingTalk calls the token stale (it was revoked, or the clock is off), fetches a new one and
   * calls once more.
   */
  async call(path: string, query: Record<string, string> = {}, body?: unknown, keep?: (text: string) => Promise<void>): Promise<{ text: string; reply: DingTalkReply }> {
    try {
      return await this.api.call(path, { ...query, access_token: await this.get() }, body, keep);
    } catch (error) {
      if (!(error instanceof DingTalkApiError) || error.errcode === undefined || !STALE_TOKEN_CODES.has(error.errcode)) throw error;
      this.drop();
      return this.api.call(path, { ...query, access_token: await this.get() }, body, keep);
    }
  }
}
