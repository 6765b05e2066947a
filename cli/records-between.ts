import type { EventRecord } from '../core/events';
import { allRecords, type EventReader } from '../core/listing';

/** The stored records received in [since, until), oldest first, read page by page. */
export async function recordsBetween(reader: EventReader, since: Date, until: Date): Promise<EventRecord[]> {
  const records: EventRecord[] = [];
  for await (const record of allRecords(reader, { since: since.toISOString(), until: until.toISOString() })) records.push(record);
  return records.reverse();
}
