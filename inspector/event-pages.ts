import type { EventRecord, EventSource } from '../core/events';
import { encodeCursor, encodeListKey, listLimit, type EventQuery, type EventReader } from '../core/listing';

/** The sources a record may have, for the source filter. */
export const SOURCES: readonly EventSource[] = ['push', 'recovered', 'stream', 'sync'];

/** How many records one listing reads at most to fill a page filtered by source (no store index has the source). */
export const SOURCE_SCAN_LIMIT = 1000;

/** A record as a row of the list: the record without its payload and frame headers. */
export type EventSummary = Omit<EventRecord, 'payload' | 'headers'>;

/** One page of the list. */
export interface SummaryPage {
  events: EventSummary[];
  /** Present when more may match: the next page starts after the last record read. */
  cursor?: string;
}

/**
 * A page of the events `query` matches, newest first, through the store's own listing and cursor;
 * with `source`, the store's pages are filtered here, reading at most {@link SOURCE_SCAN_LIMIT}
 * records, and the cursor continues after the last record read (a cursor every store takes).
 */
export async function eventPage(reader: EventReader, query: EventQuery, source?: EventSource): Promise<SummaryPage> {
  const limit = listLimit(query);
  if (!source) {
    const page = await reader.list({ ...query, limit });
    return { events: page.records.map(summary), ...(page.cursor && { cursor: page.cursor }) };
  }
  const events: EventSummary[] = [];
  let cursor = query.cursor;
  let read = 0;
  while (read < SOURCE_SCAN_LIMIT) {
    const page = await reader.list({ ...query, cursor, limit: Math.min(200, SOURCE_SCAN_LIMIT - read) });
    for (const record of page.records) {
      read += 1;
      if (record.source === source) events.push(summary(record));
      if (events.length === limit) return { events, cursor: encodeCursor(encodeListKey(record)) };
    }
    if (!page.cursor) return { events };
    cursor = page.cursor;
  }
  return { events, cursor: cursor! };
}

function summary(record: EventRecord): EventSummary {
  const { payload: _payload, headers: _headers, ...fields } = record;
  return fields;
}
