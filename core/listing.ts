import { capField, type EventRecord } from './events';
import type { IsvStateStore } from './isv-state';
import type { EventWriter } from './store';

/** Which records {@link EventReader.list} returns, newest first. */
export interface EventQuery {
  /** Only events of this type. */
  eventType?: string;
  /** Only events of this approval instance. */
  processInstanceId?: string;
  /** Only events received at or after this time (ISO-8601 UTC, as `toISOString()` gives it). */
  since?: string;
  /** Only events received before this time (ISO-8601 UTC). */
  until?: string;
  /** At most this many records: 1 to {@link MAX_LIST_LIMIT}, default {@link DEFAULT_LIST_LIMIT}. */
  limit?: number;
  /** Continue after the page that gave this cursor ({@link EventPage.cursor}), with the same filters. */
  cursor?: string;
}

/** One page of a listing. */
export interface EventPage {
  records: EventRecord[];
  /** Present when more records match: pass it as {@link EventQuery.cursor} for the next page. */
  cursor?: string;
}

/** The page a store returns when no limit is given. */
export const DEFAULT_LIST_LIMIT = 50;
/** The largest page a store returns; each store pages inside to fill it. */
export const MAX_LIST_LIMIT = 1000;

/** How many records a query asks for, as every store counts it: 1 to {@link MAX_LIST_LIMIT}. */
export function listLimit(query: EventQuery): number {
  return Math.min(Math.max(1, Math.floor(query.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT);
}

/** The filters of a query as the records store them: capped as {@link capField} capped the fields. */
export function storedFilters(query: EventQuery): Pick<EventQuery, 'eventType' | 'processInstanceId'> {
  return {
    eventType: query.eventType === undefined ? undefined : capField(query.eventType),
    processInstanceId: query.processInstanceId === undefined ? undefined : capField(query.processInstanceId),
  };
}

/**
 * The order of every listing, as a string: `<receivedAt>#<id>`. Newest first is this key
 * descending, in UTF-8 byte order; `receivedAt` has a fixed width, so ties in time go by id.
 * DynamoDB's indexes sort on it stored as one attribute; Tablestore's indexes on the two columns.
 */
export function encodeListKey(record: Pick<EventRecord, 'id' | 'receivedAt'>): string {
  return `${record.receivedAt}#${record.id}`;
}

/**
 * The parts of a list key, or of a bound of {@link keyRange}: a bare time has no `id`. Tablestore's
 * indexes keep the two as columns of their own.
 */
export function decodeListKey(key: string): { receivedAt: string; id?: string } {
  const at = key.indexOf('#');
  return at < 0 ? { receivedAt: key } : { receivedAt: key.slice(0, at), id: key.slice(at + 1) };
}

/** Orders records newest first, as every store's `list` answers: {@link encodeListKey} descending, byte order. */
export function newestFirst(a: Pick<EventRecord, 'id' | 'receivedAt'>, b: Pick<EventRecord, 'id' | 'receivedAt'>): number {
  return Buffer.compare(Buffer.from(encodeListKey(b)), Buffer.from(encodeListKey(a)));
}

/** A query that cannot be answered (a malformed time or cursor); the message says which. */
export class QueryError extends Error {
  override name = 'QueryError';
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The {@link encodeListKey} range a query covers: `lower` inclusive (from `since`), `upper` exclusive
 * (the lower of `until` and the cursor). A bare time sorts before every key of that millisecond.
 * @throws QueryError for a time that is not ISO-8601 UTC or a cursor no listing gave.
 */
export function keyRange(query: EventQuery): { lower?: string; upper?: string } {
  for (const name of ['since', 'until'] as const) {
    const value = query[name];
    if (value !== undefined && !ISO_TIME.test(value)) throw new QueryError(`${name} must be an ISO-8601 UTC time like 2026-11-27T08:00:00.000Z`);
  }
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const upper = after !== undefined && (query.until === undefined || after < query.until) ? after : query.until;
  return { lower: query.since, upper };
}

/** The page of `ordered` (newest first, up to one record past the limit): the first `limit`, and a cursor when there is more. */
export function pageOf(ordered: EventRecord[], limit: number): EventPage {
  const records = ordered.slice(0, limit);
  return ordered.length > limit ? { records, cursor: encodeCursor(encodeListKey(records.at(-1)!)) } : { records };
}

/** A cursor is the last record's {@link encodeListKey}, base64url: opaque, and valid on every store. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#./.test(key) || encodeCursor(key) !== cursor) throw new QueryError('the cursor is not one a listing gave');
  return key;
}

/** Every record a query matches, page after page, newest first. */
export async function* allRecords(reader: EventReader, query: Omit<EventQuery, 'cursor' | 'limit'>): AsyncGenerator<EventRecord> {
  let cursor: string | undefined;
  do {
    const page = await reader.list({ ...query, limit: MAX_LIST_LIMIT, cursor });
    yield* page.records;
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/** The read port, for tools (the CLI) that run with an operator's rights, never for a function. */
export interface EventReader {
  /** The record of this identity ({@link EventRecord.id}). */
  get(id: string): Promise<EventRecord | undefined>;
  /**
   * One page of records newest first ({@link newestFirst}), filtered by process instance or type
   * when given (both: the instance's records of that type) and by `receivedAt`. It reads about
   * what the page holds, however large the table.
   * @throws QueryError for a malformed time or cursor.
   */
  list(query?: EventQuery): Promise<EventPage>;
}

/** A store a tool both writes and reads, the ISV state beside the events included: the CLI, tests and the bench. */
export type EventStore = EventWriter & EventReader & IsvStateStore;
