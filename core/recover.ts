import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { AccessToken, apiBaseProblem, DEFAULT_API_BASE, DEFAULT_API_TIMEOUT_MS, DingTalkApi, DingTalkApiError } from './dingtalk-api';
import { ConfigError, UnstorableEventError } from './errors';
import { HANDSHAKES } from './events';
import { appFailedPage, readFailedPage, recoveredRecord, suiteFailedPage, type FailedItem, type FailedPage } from './failed-items';
import { asideSource, type RecoverInbox, type SetAside } from './inbox';
import { optionalWholeNumber, readAll, required, type Environment } from './environment';
import { mapLimited } from './pool';
import type { EventWriter } from './store';

/** The failed-list API of each kind of app. */
export const APP_FAILED_LIST = 'call_back/get_call_back_failed_result';
export const SUITE_FAILED_LIST = 'topapi/callback/failrecord/list';

/** Puts in flight at once while a reply's items are stored. */
const PUT_CONCURRENCY = 8;

/** DingTalk's largest ISV page. */
const SUITE_PAGE_SIZE = 100;

/**
 * The most failed-list pages one pass reads (20,000 items of an internal app): a list that never
 * empties (DingTalk serving the same page again and again) costs this many calls, not the month's
 * quota; the next run reads on.
 */
export const MAX_PAGES_PER_PASS = 100;

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
  const problem = apiBaseProblem(apiBase);
  if (problem !== undefined) throw new ConfigError('DINGTALK_API_BASE', problem);
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
 * The ownerKey a recovered record is filed under: the one the pushes of this app take, so a
 * recovered item meets its pushed twin. A suite's pushes are encrypted for the suiteKey; an internal
 * app's event subscription for the appKey, which wins whenever `DINGTALK_OWNER_KEY` lists it (or
 * lists nothing); only a corp that registered its callbacks itself, and so lists its corpId without
 * the appKey, gets its pushes under the corpId.
 */
export function recoveredOwnerKey(mode: RecoverMode, corpId: string | undefined): string {
  if (mode.kind === 'suite') return mode.suiteKey;
  const { appKey, ownerKeys } = mode;
  return corpId !== undefined && !ownerKeys.includes(appKey) && ownerKeys.includes(corpId) ? corpId : appKey;
}

/** What a pass did. */
export interface RecoverSummary {
  /** Replies read from DingTalk in this run. */
  pages: number;
  /** Replies left by an earlier run and finished in this one. */
  resumed: number;
  /** Items read, from both: each one created, a duplicate, a handshake or set aside. */
  items: number;
  created: number;
  duplicate: number;
  /** Handshakes (`check_url`, the suite URL checks): not stored, as pushed ones are not. */
  handshakes: number;
  /** Items no record can be made of or the store cannot hold: kept as text in the inbox's set-aside list. */
  setAside: number;
}

/** A summary of nothing done yet. */
export function emptySummary(): RecoverSummary {
  return { pages: 0, resumed: 0, items: 0, created: 0, duplicate: 0, handshakes: 0, setAside: 0 };
}

/** A pass that stopped: the step that failed (a DingTalk API, `reply`, `inbox` or `store`) and what was done before. */
export class RecoverError extends Error {
  override name = 'RecoverError';
  constructor(
    readonly step: string,
    detail: string,
    readonly summary: RecoverSummary,
    /** Replies kept in the inbox whose items are not all stored yet: the next run finishes them. */
    readonly left = 0,
    options?: { cause?: unknown; lost?: boolean },
  ) {
    super(`${step}: ${detail}`, options);
    this.lost = options?.lost ?? false;
  }

  /** Items were read that are neither stored nor kept anywhere (the inbox and the store both failed). */
  readonly lost: boolean;
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
 * the failed list page after page while DingTalk says `has_more` and the page held items. Each
 * reply's raw text goes into the inbox before anything else is done with it, even parsing, and
 * leaves it once every item is stored or set aside; an ISV page is confirmed only after its items
 * are stored. An item no record can be made of, or that the store cannot hold, is set aside (kept
 * as text with the reason) and the pass goes on; a reply that cannot be read is set aside whole and
 * the pass stops. A call that fails is tried again with backoff, then the run fails with what
 * earlier pages stored kept.
 * @throws RecoverError naming the failing step.
 */
export async function recover(options: RecoverOptions): Promise<RecoverSummary> {
  const { settings, token, store, inbox, retryDelaysMs = settings.retryDelaysMs, now = () => new Date(), onPage } = options;
  const { mode, source } = settings;
  const summary = emptySummary();
  const parse = mode.kind === 'app' ? appFailedPage : suiteFailedPage;
  /** Replies in the inbox not yet finished. */
  let left = 0;
  const fail = (step: string, error: unknown): never => {
    if (error instanceof RecoverError) throw error;
    const detail = error instanceof DingTalkApiError ? error.detail : error instanceof Error ? error.message : String(error);
    throw new RecoverError(error instanceof DingTalkApiError ? error.step : step, detail, { ...summary }, left, { cause: error });
  };

  /** Keeps `text` in the set-aside list with its reason; the same text set aside twice is one entry. */
  const setAside = async (text: string, reason: string): Promise<void> => {
    const entry: SetAside = { reason, at: now().toISOString(), text };
    await inbox.add(asideSource(source), JSON.stringify(entry), setAsideId(text)).catch((error: unknown) => fail('inbox', error));
  };

  /** Stores an item, or sets it aside; a handshake is neither. */
  const settle = async (item: FailedItem): Promise<'created' | 'duplicate' | 'handshakes' | 'setAside'> => {
    if (item.problem !== undefined) {
      await setAside(item.text, item.problem);
      return 'setAside';
    }
    if (HANDSHAKES.has(item.eventType)) return 'handshakes';
    try {
      return await store.put(recoveredRecord(item, (corpId) => recoveredOwnerKey(mode, corpId), now()));
    } catch (error) {
      if (!(error instanceof UnstorableEventError)) throw error;
      await setAside(item.text, error.message);
      return 'setAside';
    }
  };

  /** Stores or sets aside every item of a reply, then forgets the reply kept in the inbox under `id` (if it was kept). */
  const finish = async (id: string | undefined, page: FailedPage, rereading = false): Promise<void> => {
    const outcomes = await mapLimited(page.items, PUT_CONCURRENCY, settle).catch((error: unknown) => fail('store', error));
    // What a confirming re-read adds was new at DingTalk a moment ago: count only what is new here.
    const counted = rereading ? outcomes.filter((outcome) => outcome !== 'duplicate') : outcomes;
    summary.items += counted.length;
    for (const outcome of counted) summary[outcome] += 1;
    if (id !== undefined) {
      await inbox.remove(source, id).catch((error: unknown) => fail('inbox', error));
      left -= 1;
    }
  };

  /**
   * The page `text` holds; a reply that cannot be read is set aside whole (and leaves the inbox's
   * list of replies to finish, so no later run is held up by it), and the run fails saying so.
   */
  const pageOf = async (text: string, id: string | undefined): Promise<FailedPage> => {
    const reading = readFailedPage(text, parse);
    if (typeof reading !== 'string') return reading;
    await setAside(text, `the reply ${reading}`);
    if (id !== undefined) {
      await inbox.remove(source, id).catch((error: unknown) => fail('inbox', error));
      left -= 1;
    }
    throw new RecoverError('reply', `a failed-list reply ${reading}: it is set aside whole (recover --set-aside lists it); DingTalk has deleted what it held, so look at it there`, { ...summary }, left);
  };

  /**
   * Calls DingTalk, retrying with backoff; a refused token request is not retried (a wrong secret
   * stays wrong). An answer that is no JSON object is not retried either: DingTalk deleted what it
   * sent, and `keep` has it.
   */
  const call = async (path: string, body: unknown, keep: (text: string) => Promise<void>, forget: () => Promise<void>): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await token.call(path, {}, body, keep);
        return;
      } catch (error) {
        // The failed list's own answer, kept: its reader sets it aside. (A token answer is retried.)
        if (error instanceof DingTalkApiError && error.unreadable && error.step === path) return;
        await forget();
        const tokenRefused = error instanceof DingTalkApiError && error.step !== path && error.refused;
        if (tokenRefused || attempt >= retryDelaysMs.length) return fail(path, error);
        await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt]));
      }
    }
  };

  /** Reads one reply, keeps its raw text before anything else, then stores or sets aside its items. */
  const readPage = async (path: string, body?: unknown, stored?: FailedPage): Promise<FailedPage> => {
    let kept: { text: string; id?: string; error?: unknown } | undefined;
    // An answer with an errcode holds nothing: it leaves the inbox at once (should that fail, the
    // next run finds it holds no items).
    const forget = async () => {
      if (kept?.id !== undefined && (await inbox.remove(source, kept.id).then(() => true, () => false))) left -= 1;
      kept = undefined;
    };
    const keep = async (text: string) => {
      // A second answer in one call follows an errcode answer (a stale token, fetched anew).
      await forget();
      kept = await inbox.add(source, text).then(
        (id) => {
          left += 1;
          return { text, id };
        },
        (error: unknown) => ({ text, error }),
      );
    };
    await call(path, body, keep, forget);
    const { text, id, error: keepError } = kept!;
    if (!stored) summary.pages += 1;
    const page = await pageOf(text, id);
    // A confirming re-read repeats the records just stored: store only those it adds.
    const done = new Set(stored?.items.map((item) => item.recordId));
    const fresh = { ...page, items: page.items.filter((item) => item.recordId === undefined || !done.has(item.recordId)) };
    // Should the inbox have failed, the items are still stored from memory before the run stops,
    // so a failing inbox alone loses nothing.
    await finish(id, fresh, stored !== undefined).catch((error: unknown) => {
      if (keepError === undefined) throw error;
      throw new RecoverError('store', `${(error as Error).message}; and the inbox could not keep the reply either (${(keepError as Error).message}), so the items of it not stored are lost: DingTalk has deleted them`, { ...summary }, left, { cause: error, lost: true });
    });
    if (keepError !== undefined) fail('inbox', keepError);
    return page;
  };

  const pending = await inbox.pending(source).catch((error: unknown) => fail('inbox', error));
  left = pending.length;
  for (const entry of pending) {
    await finish(entry.id, await pageOf(entry.body, entry.id));
    summary.resumed += 1;
    onPage?.({ ...summary });
  }

  if (mode.kind === 'app') {
    for (let more = true; more; ) {
      const page = await readPage(APP_FAILED_LIST);
      // An empty page ends the pass whatever has_more says: a list that never empties would spend the month's calls.
      more = page.hasMore && page.items.length > 0 && summary.pages < MAX_PAGES_PER_PASS;
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
      const next = Math.max(cursor ?? 0, ...ids);
      // A cursor that does not move would read the same records again and again.
      more = page.hasMore && next !== cursor && summary.pages < MAX_PAGES_PER_PASS;
      cursor = next;
    } else {
      more = false;
    }
    onPage?.({ ...summary });
  }
  return summary;
}

/** The id of a set-aside entry: a hash of its text, so setting the same text aside again replaces it. */
function setAsideId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** The set-aside entries of these settings' app, oldest first (`recover --set-aside`). */
export async function setAsideEntries(inbox: RecoverInbox, settings: RecoverSettings): Promise<Array<SetAside & { id: string }>> {
  const entries = await inbox.pending(asideSource(settings.source));
  return entries
    .map(({ id, body }) => {
      try {
        return { id, ...(JSON.parse(body) as SetAside) };
      } catch {
        return { id, reason: 'the set-aside entry itself is no JSON', at: '', text: body };
      }
    })
    .sort((a, b) => a.at.localeCompare(b.at));
}

