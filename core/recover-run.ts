import type { AccessToken } from './dingtalk-api';
import { DingTalkApiError } from './dingtalk-api';
import type { RecoverInbox } from './inbox';
import { isvStateOf, type IsvStateStore } from './isv-state';
import type { EventReader } from './listing';
import { accessTokenFor, emptySummary, recover, RecoverError, type RecoverSettings, type RecoverSummary } from './recover';
import type { EventWriter } from './store';

/** What a scheduled function (or the CLI) runs recover passes with; the token is made at the first pass and kept. */
export interface RecoverRun {
  settings: RecoverSettings;
  /** Written to; read only for an ISV suite's latest `suite_ticket`. */
  store: EventWriter & Pick<EventReader, 'list'> & Pick<IsvStateStore, 'suiteTicket'>;
  inbox: RecoverInbox;
  onPage?: (summary: RecoverSummary) => void;
  token?: AccessToken;
}

/** How a pass ended. */
export type RecoverOutcome = { summary: RecoverSummary; durationMs: number } | { summary: RecoverSummary; durationMs: number; error: RecoverError };

/** One pass; a failure is answered, not thrown, so the caller logs it the same way as a success. */
export async function runRecover(run: RecoverRun): Promise<RecoverOutcome> {
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  const { mode } = run.settings;
  run.token ??= accessTokenFor(run.settings, () => latestSuiteTicket(run.store, mode.kind === 'suite' ? mode.suiteKey : ''));
  try {
    const summary = await recover({ settings: run.settings, token: run.token, store: run.store, inbox: run.inbox, onPage: run.onPage });
    return { summary, durationMs: durationMs() };
  } catch (error) {
    const failed = error instanceof RecoverError ? error : new RecoverError('recover', (error as Error).message, emptySummary(), 0, { cause: error });
    return { summary: failed.summary, durationMs: durationMs(), error: failed };
  }
}

/**
 * The run as one JSON log line: counts, the step that failed and DingTalk's errcode or the HTTP
 * status. Never a token, a secret or an item's data.
 */
export function recoverLine(outcome: RecoverOutcome): string {
  const failure = 'error' in outcome ? outcome.error : undefined;
  const cause = failure?.cause;
  return JSON.stringify({
    level: failure ? 'error' : 'info',
    msg: 'recover',
    outcome: failure ? 'failed' : 'done',
    ...outcome.summary,
    durationMs: outcome.durationMs,
    ...(failure && { step: failure.step, error: failure.message, leftInInbox: failure.left }),
    ...(cause instanceof DingTalkApiError && cause.errcode !== undefined && { errcode: cause.errcode }),
    ...(cause instanceof DingTalkApiError && cause.httpStatus !== undefined && { httpStatus: cause.httpStatus }),
  });
}

/**
 * The latest ticket DingTalk gave the suite `suiteKey` (about every 5 hours; a new one voids the
 * old), from the ISV state the store keeps (docs/isv.md); for a table written before that state
 * was kept, from its newest `suite_ticket` event.
 */
export async function latestSuiteTicket(store: Pick<EventReader, 'list'> & Pick<IsvStateStore, 'suiteTicket'>, suiteKey: string): Promise<string> {
  const kept = await store.suiteTicket(suiteKey);
  if (kept) return kept.ticket;
  const [record] = (await store.list({ eventType: 'suite_ticket', limit: 1 })).records;
  const state = record && isvStateOf(record);
  if (state?.kind !== 'suite_ticket') {
    throw new DingTalkApiError('suite_ticket', `no suite_ticket for ${suiteKey} is stored yet: DingTalk sends one about every 5 hours once the suite's URL is set (docs/isv.md)`);
  }
  return state.ticket;
}
