import type { AccessToken } from './dingtalk-api';
import { DingTalkApiError } from './dingtalk-api';
import type { RecoverInbox } from './inbox';
import type { EventReader } from './listing';
import { accessTokenFor, emptySummary, recover, RecoverError, type RecoverSettings, type RecoverSummary } from './recover';
import type { EventWriter } from './store';

/** What a scheduled function (or the CLI) runs recover passes with; the token is made at the first pass and kept. */
export interface RecoverRun {
  settings: RecoverSettings;
  /** Written to; read only for an ISV suite's newest `suite_ticket`. */
  store: EventWriter & Pick<EventReader, 'list'>;
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
  run.token ??= accessTokenFor(run.settings, () => latestSuiteTicket(run.store));
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

/** The newest `SuiteTicket` DingTalk pushed (every 20 minutes), from the store. */
export async function latestSuiteTicket(store: Pick<EventReader, 'list'>): Promise<string> {
  const [record] = (await store.list({ eventType: 'suite_ticket', limit: 1 })).records;
  const ticket = record && (JSON.parse(record.payload) as { SuiteTicket?: unknown }).SuiteTicket;
  if (typeof ticket !== 'string' || ticket === '') {
    throw new DingTalkApiError('suite_ticket', 'no suite_ticket event is stored yet: DingTalk pushes one every 20 minutes once the suite URL is set');
  }
  return ticket;
}
