import type { EventRecord } from '../core/events';
import { MAX_LIST_LIMIT, type EventReader } from '../core/listing';

/**
 * The stored records received in [since, until), oldest first.
 * @throws Error when the store holds more records in the window than one listing returns: today's
 * read port has no time bounds or paging, so a longer window cannot be read whole.
 */
export async function recordsBetween(reader: EventReader, since: Date, until: Date): Promise<EventRecord[]> {
  const from = since.toISOString();
  const to = until.toISOString();
  const newest = await reader.list({ limit: MAX_LIST_LIMIT });
  const inWindow = newest.filter((record) => record.receivedAt >= from && record.receivedAt < to);
  const oldestListed = newest.at(-1);
  if (newest.length === MAX_LIST_LIMIT && oldestListed && oldestListed.receivedAt >= from) {
    throw new Error(`more than ${MAX_LIST_LIMIT} events were stored since ${from}: re-send a shorter window (--since, --until)`);
  }
  return inWindow.reverse();
}
