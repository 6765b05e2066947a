import TableStore from 'tablestore';
import { couldBeRecordId, type EventRecord } from '../../core/events';
import { stateId, type IsvState, type IsvStateStore, type SuiteTicketState } from '../../core/isv-state';
import { decodeListKey, encodeListKey, keyRange, listLimit, pageOf, storedFilters, type EventPage, type EventQuery, type EventStore } from '../../core/listing';
import { putClientOf } from './tablestore-client';
import { storeError } from './tablestore-errors';
import { fromRow } from './tablestore-row';
import { eventIndexes } from './tablestore-schema';
import { fromStateRow, STATE_RANGE } from './tablestore-state';
import { TOOLS_PUT_DEADLINE_MS } from '../../core/store';
import { TablestoreEventWriter, type TablestoreEventWriterOptions } from './tablestore-writer';

/**
 * The whole Tablestore {@link EventStore}, for tools: the function's writer, and listings that read
 * one of the covering indexes of {@link eventIndexes} backwards. Each index key ends with
 * `receivedAt, id`, so a listing is one range read from its upper bound, as long as its page.
 * Its puts wait {@link TOOLS_PUT_DEADLINE_MS} unless told otherwise.
 */
export class TablestoreEventStore extends TablestoreEventWriter implements EventStore, IsvStateStore {
  private readonly client: TableStore.Client;

  /** Reads through the SDK `client`; writes as the functions do, at its instance with its keys ({@link putClientOf}). */
  constructor({ client, ...options }: Omit<TablestoreEventWriterOptions, 'client'> & { client: TableStore.Client }) {
    super({ ...options, client: putClientOf(client), putDeadlineMs: options.putDeadlineMs ?? TOOLS_PUT_DEADLINE_MS });
    this.client = client;
  }

  async get(id: string): Promise<EventRecord | undefined> {
    if (!couldBeRecordId(id)) return undefined;
    const { row } = await this.client.getRow({ tableName: this.tableName, primaryKey: [{ id }], maxVersions: 1 }).catch((error: unknown) => {
      throw storeError('GetRow', error);
    });
    return row.primaryKey ? fromRow(row) : undefined;
  }

  async suiteTicket(suiteKey: string): Promise<SuiteTicketState | undefined> {
    const { row } = await this.client.getRow({ tableName: this.tableName, primaryKey: [{ id: stateId({ kind: 'suite_ticket', suiteKey }) }], maxVersions: 1 }).catch((error: unknown) => {
      throw storeError('GetRow', error);
    });
    const state = row.primaryKey ? fromStateRow(row) : undefined;
    return state?.kind === 'suite_ticket' ? state : undefined;
  }

  /** Every state row: one forward range read of the table's `#` keys, in pages. */
  async isvStates(): Promise<IsvState[]> {
    const states: IsvState[] = [];
    let next: TableStore.PrimaryKeyInput | undefined = [{ id: STATE_RANGE.start }];
    while (next) {
      const page: Awaited<ReturnType<TableStore.Client['getRange']>> = await this.client
        .getRange({ tableName: this.tableName, direction: TableStore.Direction.FORWARD, inclusiveStartPrimaryKey: next, exclusiveEndPrimaryKey: [{ id: STATE_RANGE.end }], maxVersions: 1 })
        .catch((error: unknown) => {
          throw storeError('GetRange', error);
        });
      for (const row of page.rows) {
        const state = fromStateRow(row);
        if (state) states.push(state);
      }
      next = page.nextStartPrimaryKey?.map(({ name, value }) => ({ [name]: value }));
    }
    return states;
  }

  async list(query: EventQuery = {}): Promise<EventPage> {
    const { eventType, processInstanceId } = storedFilters(query);
    const { lower, upper } = keyRange(query);
    const limit = listLimit(query);
    const [byType, byInstance, byTime] = eventIndexes(this.tableName).map((index) => index.name);
    const [tableName, prefix]: [string, TableStore.PrimaryKeyInput] =
      processInstanceId !== undefined ? [byInstance!, [{ processInstanceId }]]
      : eventType !== undefined ? [byType!, [{ eventType }]]
      : [byTime!, []];
    const key = (receivedAt: string | TableStore.Bound, id: string | TableStore.Bound): TableStore.PrimaryKeyInput => [...prefix, { receivedAt }, { id }];
    // Backwards from the upper bound (inclusive: the row equal to a cursor is skipped) down to the lower (exclusive).
    const bound = upper === undefined ? undefined : decodeListKey(upper);
    const start = bound === undefined ? key(TableStore.INF_MAX, TableStore.INF_MAX) : key(bound.receivedAt, bound.id ?? TableStore.INF_MIN);
    const end = lower === undefined ? key(TableStore.INF_MIN, TableStore.INF_MIN) : key(lower, TableStore.INF_MIN);
    const slack = bound?.id !== undefined ? 1 : 0; // the cursor's own row is read again
    const records: EventRecord[] = [];
    let next: TableStore.PrimaryKeyInput | undefined = start;
    while (next && records.length <= limit) {
      const page: Awaited<ReturnType<TableStore.Client['getRange']>> = await this.client
        .getRange({ tableName, direction: TableStore.Direction.BACKWARD, inclusiveStartPrimaryKey: next, exclusiveEndPrimaryKey: end, limit: limit + 1 + slack - records.length, maxVersions: 1 })
        .catch((error: unknown) => {
          throw storeError('GetRange', error);
        });
      for (const row of page.rows) {
        const record = fromRow(row);
        if (encodeListKey(record) === upper) continue;
        if (eventType === undefined || record.eventType === eventType) records.push(record);
      }
      next = page.nextStartPrimaryKey?.map(({ name, value }) => ({ [name]: value }));
    }
    return pageOf(records.slice(0, limit + 1), limit);
  }
}
