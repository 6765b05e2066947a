import type { EventRecord } from './events';
import { listLimit, newestFirst, storedFilters, type EventQuery, type EventStore } from './listing';
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

  async list(options: EventQuery = {}): Promise<EventRecord[]> {
    const query = { ...options, ...storedFilters(options) };
    return [...this.records.values()]
      .filter((record) => query.eventType === undefined || record.eventType === query.eventType)
      .filter((record) => query.processInstanceId === undefined || record.processInstanceId === query.processInstanceId)
      .sort(newestFirst)
      .slice(0, listLimit(query))
      .map((record) => ({ ...record }));
  }
}
