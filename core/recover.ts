import { inspect } from 'node:util';
import { AccessToken, DEFAULT_API_BASE, DEFAULT_API_TIMEOUT_MS, DingTalkApi, DingTalkApiError, type DingTalkReply } from './dingtalk-api';
import { ConfigError } from './errors';
import { appFailedPage, recoveredRecord, suiteFailedPage, type FailedPage } from './failed-items';
import type { RecoverInbox } from './inbox';
import { optionalWholeNumber, readAll, required, type Environment } from './environment';
import { mapLimited } from './pool';
import type { EventWriter, PutOutcome } from './store';

/** The failed-list API of each kind of app. */
export const APP_FAILED_LIST = 'call_back/get_call_back_failed_result';
export const SUITE_FAILED_LIST = 'topapi/callback/failrecord/list';

/** Puts in flight at once while a reply's items are stored. */
const PUT_CONCURRENCY = 8;

/** DingTalk's largest ISV page. */
const SUITE_PAGE_SIZE = 100;

/** The first wait before trying a failed call again (`DINGTALK_API_BACKOFF_MS`). */
export const DEFAULT_BACKOFF_MS = 500;

/** Waits between the attempts at one call: three more tries, 1x, 4x and 10x the backoff (7.5 s by default, well inside a function's timeout). */
export function retryDelays(backoffMs: number): readonly number[] {
  return [1, 4, 10].map((factor) => factor * backoffMs);
}

/** Whose failed list the pass reads, and with which credentials. */
export type RecoverMode =
  | { kind: 'app'; appKey: string; appSecret: string; ownerKeys: readonly string[] }
  | { kind: 'suite'; suiteKey: string; suiteSecret: string; tags: readonly string[] };

/** The validated recover settings; they redact themselves when logged. */
export class RecoverSettings {
  constructor(
    readonly apiBase: string,
    readonly mode: RecoverMode,
    readonly timeoutMs = DEFAULT_API_TIMEOUT_MS,
    /** Waits between the attempts at a failing call. */
    readonly retryDelaysMs: readonly number[] = retryDelays(DEFAULT_BACKOFF_MS),
  ) {}

  /** The inbox key of this app's replies. */
  get source(): string {
    return this.mode.kind === 'app' ? `app:${this.mode.appKey}` : `suite:${this.mode.suiteKey}`;
  }

  toJSON(): object {
    const { mode } = this;
    const shown = mode.kind === 'app' ? { kind: mode.kind, appKey: mode.appKey, appSecret: '[redacted]' } : { kind: mode.kind, suiteKey: mode.suiteKey, suiteSecret: '[redacted]', tags: mode.tags };
    return { apiBase: this.apiBase, mode: shown, timeoutMs: this.timeoutMs, retryDelaysMs: this.retryDelaysMs };
  }

  [inspect.custom](): string {
    return `RecoverSettings ${JSON.stringify(this.toJSON())}`;
  }
}

/**
 * Reads the recover settings: `DINGTALK_API_BASE` (default {@link DEFAULT_API_BASE}), optional
 * `DINGTALK_API_TIMEOUT_MS` and `DINGTALK_API_BACKOFF_MS`, and either `DINGTALK_SUITE_KEY`, `DINGTALK_SUITE_SECRET`,
 * `DINGTALK_SUITE_TAGS` (an ISV suite) or `DINGTALK_APP_KEY`, `DINGTALK_APP_SECRET` (an internal app,
 * with `DINGTALK_OWNER_KEY` when set, see {@link recoveredOwnerKey}).
 * @throws ConfigError naming every variable that is missing or invalid.
 */
export function loadRecoverSettings(env: Environment): RecoverSettings {
  const [apiBase, timeoutMs, backoffMs, mode] = readAll(
    () => apiBaseOf(env),
    () => optionalWholeNumber(env, 'DINGTALK_API_TIMEOUT_MS', 1, 'milliseconds') ?? DEFAULT_API_TIMEOUT_MS,
    () => optionalWholeNumber(env, 'DINGTALK_API_BACKOFF_MS', 0, 'milliseconds') ?? DEFAULT_BACKOFF_MS,
    () => recoverMode(env),
  );
  return new RecoverSettings(apiBase, mode, timeoutMs, retryDelays(backoffMs));
}

function apiBaseOf(env: Environment): string {
  const apiBase = env.DINGTALK_API_BASE?.trim() || DEFAULT_API_BASE;
  if (!/^https?:\/\/[^/?#]+/.test(apiBase)) throw new ConfigError('DINGTALK_API_BASE', 'must be an http(s) URL such as https://oapi.dingtalk.com');
  return apiBase;
}

/** An ISV suite's key, secret and subscribed types when `DINGTALK_SUITE_KEY` is set; else an internal app's. */
function recoverMode(env: Environment): RecoverMode {
  const list = (variable: string) => (env[variable] ?? '').split(',').map((value) => value.trim()).filter(Boolean);
  const suiteKey = env.DINGTALK_SUITE_KEY?.trim();
  if (suiteKey) {
    const subscribed = () => {
      const tags = list('DINGTALK_SUITE_TAGS');
      if (tags.length === 0) throw new ConfigError('DINGTALK_SUITE_TAGS', 'must list the event types the suite subscribes to (comma-separated): DingTalk lists failures by type');
      return tags;
    };
    const [suiteSecret, tags] = readAll(() => required(env, 'DINGTALK_SUITE_SECRET'), subscribed);
    return { kind: 'suite', suiteKey, suiteSecret, tags };
  }
  const [appKey, appSecret] = readAll(() => required(env, 'DINGTALK_APP_KEY'), () => required(env, 'DINGTALK_APP_SECRET'));
  return { kind: 'app', appKey, appSecret, ownerKeys: list('DINGTALK_OWNER_KEY') };
}

/**
 * The access token of these settings, to keep for as long as the process lives. A suite's token
 * needs the newest `suite_ticket` DingTalk pushed: `suiteTicket` finds it (in the events store).
 */
export function accessTokenFor(settings: RecoverSettings, suiteTicket: () => Promise<string> = noSuiteTicket): AccessToken {
  const api = new DingTalkApi({ base: settings.apiBase, timeoutMs: settings.timeoutMs });
  const { mode } = settings;
  return new AccessToken(api, mode.kind === 'app' ? { kind: 'app', appKey: mode.appKey, appSecret: mode.appSecret } : { kind: 'suite', suiteKey: mode.suiteKey, suiteSecret: mode.suiteSecret, suiteTicket });
}

async function noSuiteTicket(): Promise<string> {
  throw new DingTalkApiError('suite_ticket', 'no suite_ticket is at hand');
}

/**
 * The ownerKey a recovered record is filed under, so it meets its pushed twin: a push is encrypted
 * for the corpId when the corp registered the callback itself, for the appKey when it is an
 * internal app's subscription, for the suiteKey when it is an ISV suite's.
 */
export function recoveredOwnerKey(mode: RecoverMode, corpId: string | undefined): string {
  if (mode.kind === 'suite') return mode.suiteKey;
  return corpId !== undefined && mode.ownerKeys.includes(corpId) ? corpId : mode.appKey;
}

/** What a pass did. */
export interface RecoverSummary {
  /** Replies read from DingTalk in this run. */
  pages: number;
  /** Replies left by an earlier run and finished in this one. */
  resumed: number;
  /** Items read, from both. */
  items: number;
  created: number;
  duplicate: number;
}

/** A pass that stopped: the step that failed (a DingTalk API, `inbox` or `store`) and what was done before. */
export class RecoverError extends Error {
  override name = 'RecoverError';
  constructor(
    readonly step: string,
    detail: string,
    readonly summary: RecoverSummary,
    options?: { cause?: unknown },
  ) {
    super(`${step}: ${detail}`, options);
  }
}

export interface RecoverOptions {
  settings: RecoverSettings;
  /** Kept across runs where the process lives on, so the token is fetched once in its lifetime. */
  token: AccessToken;
  store: EventWriter;
  inbox: RecoverInbox;
  /** Default: the settings'. */
  retryDelaysMs?: readonly number[];
  now?: () => Date;
  /** Told after each reply is stored. */
  onPage?: (summary: RecoverSummary) => void;
}

/**
 * One recover pass (docs/recover.md): finish the replies an earlier run left in the inbox, then read
 * the failed list page after page while DingTalk says `has_more`. Each reply goes into the inbox
 * before its items are stored and leaves it once they all are; an ISV page is confirmed only after
 * its items are stored. A call that fails is tried again with backoff, then the run fails with what
 * earlier pages stored kept.
 * @throws RecoverError naming the failing step.
 */
export async function recover(options: RecoverOptions): Promise<RecoverSummary> {
  const { settings, token, store, inbox, retryDelaysMs = settings.retryDelaysMs, now = () => new Date(), onPage } = options;
  const { mode, source } = settings;
  const summary: RecoverSummary = { pages: 0, resumed: 0, items: 0, created: 0, duplicate: 0 };
  const parse = mode.kind === 'app' ? appFailedPage : suiteFailedPage;
  const fail = (step: string, error: unknown): never => {
    if (error instanceof RecoverError) throw error;
    const detail = error instanceof DingTalkApiError ? error.detail : error instanceof Error ? error.message : String(error);
    throw new RecoverError(error instanceof DingTalkApiError ? error.step : step, detail, { ...summary }, { cause: error });
  };

  /** Stores every item of a reply, then forgets the reply kept in the inbox under `id` (if it was kept). */
  const finish = async (id: string | undefined, page: FailedPage, rereading = false): Promise<void> => {
    const outcomes = await mapLimited(page.items, PUT_CONCURRENCY, (item) => store.put(recoveredRecord(item, (corpId) => recoveredOwnerKey(mode, corpId), now()))).catch((error: unknown) => fail('store', error));
    // What a confirming re-read adds was new at DingTalk a moment ago: count only what is new here.
    const counted = rereading ? outcomes.filter((outcome) => outcome === 'created') : outcomes;
    summary.items += counted.length;
    for (const outcome of counted) summary[outcome satisfies PutOutcome] += 1;
    if (id !== undefined) await inbox.remove(source, id).catch((error: unknown) => fail('inbox', error));
  };

  /** Calls DingTalk, retrying with backoff; a refused token request is not retried (a wrong secret stays wrong). */
  const call = async (path: string, body?: unknown): Promise<{ text: string; reply: DingTalkReply }> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await token.call(path, {}, body);
      } catch (error) {
        const tokenRefused = error instanceof DingTalkApiError && error.step !== path && error.refused;
        if (tokenRefused || attempt >= retryDelaysMs.length) return fail(path, error);
        await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt]));
      }
    }
  };

  /** Reads one reply, keeps it, stores its items. */
  const readPage = async (path: string, body?: unknown, stored?: FailedPage): Promise<FailedPage> => {
    const { text, reply } = await call(path, body);
    // DingTalk has deleted what it returned: should the inbox fail, the items are still stored
    // from memory before the run stops, so a failing inbox alone loses nothing.
    const kept: { id?: string; error?: unknown } = await inbox.add(source, text).then((id) => ({ id }), (error: unknown) => ({ error }));
    const page = parse(reply);
    if (!stored) summary.pages += 1;
    // A confirming re-read repeats the records just stored: store only those it adds.
    const done = new Set(stored?.items.map((item) => item.recordId));
    await finish(kept.id, { ...page, items: page.items.filter((item) => item.recordId === undefined || !done.has(item.recordId)) }, stored !== undefined);
    if ('error' in kept) fail('inbox', kept.error);
    return page;
  };

  const pending = await inbox.pending(source).catch((error: unknown) => fail('inbox', error));
  for (const entry of pending) {
    await finish(entry.id, parse(parseReply(entry.body)));
    summary.resumed += 1;
    onPage?.({ ...summary });
  }

  if (mode.kind === 'app') {
    for (let more = true; more; ) {
      more = (await readPage(APP_FAILED_LIST)).hasMore;
      onPage?.({ ...summary });
    }
    return summary;
  }

  let cursor: number | undefined;
  for (let more = true; more; ) {
    // Unconfirmed records after the cursor; confirmed (with the same question) only once stored.
    const request = { tags: mode.tags, status: 1, page_size: SUITE_PAGE_SIZE, ...(cursor !== undefined && { cursor }) };
    const page = await readPage(SUITE_FAILED_LIST, { req: { ...request, confirm: false } });
    if (page.items.length > 0) {
      const confirmed = await readPage(SUITE_FAILED_LIST, { req: { ...request, confirm: true } }, page);
      const ids = [...page.items, ...confirmed.items].map((item) => item.recordId ?? 0);
      cursor = Math.max(cursor ?? 0, ...ids);
    }
    more = page.hasMore && page.items.length > 0;
    onPage?.({ ...summary });
  }
  return summary;
}

function parseReply(body: string): Record<string, unknown> {
  const reply: unknown = JSON.parse(body);
  return typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>) : {};
}
