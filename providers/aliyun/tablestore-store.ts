import TableStore from 'tablestore';
import type { EventRecord } from '../../core/events';
import { listLimit, newestFirst, storedFilters, type EventQuery, type EventStore } from '../../core/listing';
import { storeError } from './tablestore-client';
import { fromRow } from './tablestore-row';
import { eventIndexes } from './tablestore-table';
import { TablestoreEventWriter } from './tablestore-writer';

/**
 * The whole Tablestore {@link EventStore}, for tools: the function's writer, and listings that read
 * the covering indexes of {@link eventIndexes}.
 */
export class TablestoreEventStore extends TablestoreEventWriter implements EventStore {
  async get(id: string): Promise<EventRecord | undefined> {
    const { row } = await this.client.getRow({ tableName: this.tableName, primaryKey: [{ id }], maxVersions: 1 }).catch((error: unknown) => {
      throw storeError('GetRow', error);
    });
    return row.primaryKey ? fromRow(row) : undefined;
  }

  async list(options: EventQuery = {}): Promise<EventRecord[]> {
    const query = { ...options, ...storedFilters(options) };
    const limit = listLimit(query);
    const [byType, byInstance, byTime] = eventIndexes(this.tableName).map((index) => index.name);
    const [tableName, prefix]: [string, TableStore.PrimaryKeyInput] =
      query.processInstanceId !== undefined ? [byInstance!, [{ processInstanceId: query.processInstanceId }]]
      : query.eventType !== undefined ? [byType!, [{ eventType: query.eventType }]]
      : [byTime!, []];
    const bound = (edge: TableStore.Bound): TableStore.PrimaryKeyInput => [...prefix, { receivedAt: edge }, { id: edge }];
    const end = bound(TableStore.INF_MIN);
    const records: EventRecord[] = [];
    let start: TableStore.PrimaryKeyInput | undefined = bound(TableStore.INF_MAX);
    // Read past the limit until receivedAt changes, so ties sort by id exactly as every store does.
    while (start) {
      const page: Awaited<ReturnType<TableStore.Client['getRange']>> = await this.client
        .getRange({ tableName, direction: TableStore.Direction.BACKWARD, inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: end, limit: limit + 1, maxVersions: 1 })
        .catch((error: unknown) => {
          throw storeError('GetRange', error);
        });
      for (const row of page.rows) {
        const record = fromRow(row);
        if (query.eventType === undefined || record.eventType === query.eventType) records.push(record);
      }
      const last = records[limit - 1];
      const settled = last !== undefined && records.length > limit && records.at(-1)!.receivedAt !== last.receivedAt;
      start = settled ? undefined : page.nextStartPrimaryKey?.map(({ name, value }) => ({ [name]: value }));
    }
    return records.sort(newestFirst).slice(0, limit);
  }
}

