import type { EventRecord } from './events';
import { encodeListKey, keyRange, listLimit, newestFirst, pageOf, storedFilters, type EventPage, type EventQuery, type EventStore } from './listing';
import type { PutOutcome } from './store';

/** An {@link EventStore} in process memory: for tests, benchmarks and trying the core out. */
export class MemoryEventStore implements EventStore {
  private readonly records = new Map<string, EventRecord>();

  async put(record: EventRecord): Promise<PutOutcome> {
    if (this.records.has(record.id)) return 'duplicate';
    this.records.set(record.id, { ...record });
    return 'created';
  }

  async get(id: string): Promise<EventRecord | undefined> {
    const record = this.records.get(id);
    return record && { ...record };
  }

  async list(query: EventQuery = {}): Promise<EventPage> {
    const { eventType, processInstanceId } = storedFilters(query);
    const { lower, upper } = keyRange(query);
    const matching = [...this.records.values()]
      .filter((record) => eventType === undefined || record.eventType === eventType)
      .filter((record) => processInstanceId === undefined || record.processInstanceId === processInstanceId)
      .filter((record) => (lower === undefined || encodeListKey(record) >= lower) && (upper === undefined || encodeListKey(record) < upper))
      .sort(newestFirst);
    const limit = listLimit(query);
    return pageOf(matching.slice(0, limit + 1).map((record) => ({ ...record })), limit);
  }
}
