import type { EventRecord } from './events';
import { firstString, nonEmptyString, objectOf, wholeNumber } from './fields';
import { bizData } from './sync-push';

/**
 * An ISV suite's state, kept current beside its events (docs/isv.md, "The suite's state"): the
 * latest `suite_ticket` per suite, and each organisation's authorisation. Derived from stored
 * records whichever way they came (SyncHTTP rows, legacy pushes, Stream, recover), and written
 * with one conditional write on the state's time, so an older one arriving late never wins.
 */

/** The latest ticket of one suite. */
export interface SuiteTicketState {
  kind: 'suite_ticket';
  /** The suite's key: the ownerKey the event came for. */
  suiteKey: string;
  /** The ticket itself: a credential, never logged or printed unasked. */
  ticket: string;
  /** When DingTalk issued it (ms): `gmt_modified` of the row, `TimeStamp` of the push. */
  time: number;
  /** The suite's numeric id, when the row names it. */
  suiteId?: string;
  /** The record it was read from. */
  recordId: string;
  /** When it was stored (ISO-8601 UTC). */
  storedAt: string;
}

/** What an organisation did to the suite, last. */
export type AuthorisationStatus = 'authorised' | 'changed' | 'revoked';

/** One organisation's authorisation of one suite. */
export interface AuthorisationState {
  kind: 'authorisation';
  suiteKey: string;
  corpId: string;
  status: AuthorisationStatus;
  /** The event it came from (`org_suite_auth`, `change_auth`…). */
  action: string;
  /** When it happened (ms). */
  time: number;
  corpName?: string;
  /** The suite's agents in that organisation (`auth_info.agent[].agentid`), as text. */
  agentIds?: string[];
  recordId: string;
  storedAt: string;
}

export type IsvState = SuiteTicketState | AuthorisationState;

/** What a conditional state write answered: written, or an equal or newer state was already there. */
export type StateOutcome = 'updated' | 'stale';

/** The state side of a store: the function writes, the tools read. */
export interface IsvStateStore {
  /** One conditional write: kept only when no state of the same key with an equal or later `time` is stored. */
  putState(state: IsvState): Promise<StateOutcome>;
  /** The latest ticket of `suiteKey`, if any arrived. */
  suiteTicket(suiteKey: string): Promise<SuiteTicketState | undefined>;
  /** Every suite's ticket and every organisation's authorisation: a handful of items, one read. */
  isvStates(): Promise<IsvState[]>;
}

/** Authorisation events by the way they come: SyncHTTP and Stream names first, the legacy callback's after. */
const STATUS_OF: Record<string, AuthorisationStatus> = {
  org_suite_auth: 'authorised',
  org_suite_change: 'changed',
  org_suite_relieve: 'revoked',
  tmp_auth_code: 'authorised',
  change_auth: 'changed',
  suite_relieve: 'revoked',
};

/**
 * The first character of every state key. No record id can begin with it: ownerKeys are
 * percent-encoded in ids (`#` becomes `%23`) and long ids begin with `hash:`.
 */
export const STATE_ID_PREFIX = '#';

/** The key a state is stored under, unique per suite (a ticket) or per suite and organisation. */
export function stateId(state: Pick<IsvState, 'kind' | 'suiteKey'> & { corpId?: string }): string {
  const suite = encodeURIComponent(state.suiteKey);
  return state.kind === 'suite_ticket' ? `${STATE_ID_PREFIX}suite_ticket#${suite}` : `${STATE_ID_PREFIX}authorisation#${suite}#${encodeURIComponent(state.corpId ?? '')}`;
}

/** True for the key of a state item, which is no event record (a listing or a stream leaves it out). */
export function isStateId(id: string): boolean {
  return id.startsWith(STATE_ID_PREFIX);
}

/**
 * The ISV state a stored record says, if any: a `suite_ticket` with a ticket, or an authorisation
 * event naming its organisation. Anything else, or a record whose data cannot be read, says none.
 */
export function isvStateOf(record: EventRecord, storedAt = new Date()): IsvState | undefined {
  const status = STATUS_OF[record.eventType];
  if (record.eventType !== 'suite_ticket' && status === undefined) return undefined;
  const data = dataOf(record);
  if (!data) return undefined;
  const time = record.eventTime ?? Date.parse(record.receivedAt);
  const common = { suiteKey: record.ownerKey, time, recordId: record.id, storedAt: storedAt.toISOString() };
  if (record.eventType === 'suite_ticket') {
    const ticket = firstString(data, ['suiteTicket', 'SuiteTicket']);
    if (!ticket) return undefined;
    const suiteId = firstString(data, ['suiteId', 'SuiteId']) ?? (record.source === 'sync' ? nonEmptyString(rowOf(record)?.biz_id) : undefined);
    return { kind: 'suite_ticket', ...common, ticket, ...(suiteId && { suiteId }) };
  }
  const corpInfo = objectOf(data.auth_corp_info);
  const corpId = nonEmptyString(corpInfo?.corpid) ?? record.corpId;
  if (!corpId) return undefined;
  const corpName = nonEmptyString(corpInfo?.corp_name);
  const agents = objectOf(data.auth_info)?.agent;
  const agentIds = Array.isArray(agents) ? agents.map((agent) => agentIdOf(objectOf(agent)?.agentid)).filter((id): id is string => id !== undefined) : undefined;
  return { kind: 'authorisation', ...common, corpId, status: status!, action: record.eventType, ...(corpName && { corpName }), ...(agentIds && { agentIds }) };
}

/** A store's write of a record's state after the record itself: the one place every store calls it from. */
export async function keepStateOf(record: EventRecord, putState: (state: IsvState) => Promise<StateOutcome>): Promise<void> {
  const state = isvStateOf(record);
  if (state) await putState(state);
}

/** The event's own data: a SyncHTTP row's `biz_data`, else the payload. */
function dataOf(record: EventRecord): Record<string, unknown> | undefined {
  if (record.source === 'sync') return bizData(rowOf(record)?.biz_data);
  try {
    return objectOf(JSON.parse(record.payload.startsWith('\uFEFF') ? record.payload.slice(1) : record.payload));
  } catch {
    return undefined;
  }
}

function rowOf(record: EventRecord): Record<string, unknown> | undefined {
  try {
    return objectOf(JSON.parse(record.payload));
  } catch {
    return undefined;
  }
}

function agentIdOf(value: unknown): string | undefined {
  const number = wholeNumber(value);
  return number !== undefined ? String(number) : nonEmptyString(value);
}
