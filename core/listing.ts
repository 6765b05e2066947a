import { capField, type EventRecord } from './events';
import type { EventWriter } from './store';

/** Which records {@link EventReader.list} returns. */
export interface EventQuery {
  /** Only events of this type. */
  eventType?: string;
  /** Only events of this approval instance. */
  processInstanceId?: string;
  /** At most this many records: default and most {@link MAX_LIST_LIMIT}. */
  limit?: number;
}

/** The default and the largest page a store returns from {@link EventReader.list}. */
export const MAX_LIST_LIMIT = 50;

/** How many records a query asks for, as every store counts it: 1 to {@link MAX_LIST_LIMIT}. */
export function listLimit(query: EventQuery): number {
  return Math.min(Math.max(1, Math.floor(query.limit ?? MAX_LIST_LIMIT)), MAX_LIST_LIMIT);
}

/** The filters of a query as the records store them: capped as {@link capField} capped the fields. */
export function storedFilters(query: EventQuery): Pick<EventQuery, 'eventType' | 'processInstanceId'> {
  return {
    eventType: query.eventType === undefined ? undefined : capField(query.eventType),
    processInstanceId: query.processInstanceId === undefined ? undefined : capField(query.processInstanceId),
  };
}

/** The read port, for tools (the CLI) that run with an operator's rights, never for a function. */
export interface EventReader {
  /** The record of this identity ({@link EventRecord.id}). */
  get(id: string): Promise<EventRecord | undefined>;
  /**
   * Records newest first by `receivedAt`, filtered by process instance or type when given
   * (both: the instance's records of that type). With no filter, the newest records of any type.
   */
  list(query?: EventQuery): Promise<EventRecord[]>;
}

/** A store a tool both writes and reads: the CLI, tests and the bench. */
export type EventStore = EventWriter & EventReader;

/** Orders records newest first, ties by id, as every store's `list` answers. */
export function newestFirst(a: Pick<EventRecord, 'id' | 'receivedAt'>, b: Pick<EventRecord, 'id' | 'receivedAt'>): number {
  return b.receivedAt.localeCompare(a.receivedAt) || a.id.localeCompare(b.id);
}
