import TableStore from 'tablestore';
import { UnstorableEventError } from '../../core/errors';
import type { EventRecord } from '../../core/events';
import { keepStateOf, type IsvState, type StateOutcome } from '../../core/isv-state';
import { PUT_DEADLINE_MS, type EventWriter, type PutOutcome } from '../../core/store';
import { otsCode, storeError } from './tablestore-client';
import { toRow } from './tablestore-row';
import { newerState, stateRow } from './tablestore-state';

/** The table and a client for it. */
export interface TablestoreEventWriterOptions {
  tableName: string;
  client: TableStore.Client;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

/**
 * The function's side of the Tablestore store: one row per event keyed by its `id`, one `PutRow`
 * expecting the row not to exist; for a ticket or an authorisation a second one keeping the ISV state.
 */
export class TablestoreEventWriter implements EventWriter {
  readonly tableName: string;
  protected readonly client: TableStore.Client;
  private readonly putDeadlineMs: number;

  constructor({ tableName, client, putDeadlineMs = PUT_DEADLINE_MS }: TablestoreEventWriterOptions) {
    this.tableName = tableName;
    this.client = client;
    this.putDeadlineMs = putDeadlineMs;
  }

  async put(record: EventRecord): Promise<PutOutcome> {
    const condition = new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
    const outcome = await this.putRow({ condition, ...toRow(record) });
    // A duplicate too: the earlier delivery may have stored the record and failed here.
    await keepStateOf(record, (state) => this.putState(state));
    return outcome === 'written' ? 'created' : 'duplicate';
  }

  async putState(state: IsvState): Promise<StateOutcome> {
    return (await this.putRow({ condition: newerState(state), ...stateRow(state) })) === 'written' ? 'updated' : 'stale';
  }

  /** One conditional `PutRow` within the put deadline; a failed condition is an answer. */
  private async putRow(row: { condition: TableStore.Condition; primaryKey: TableStore.PrimaryKeyInput; attributeColumns: TableStore.AttributeInput }): Promise<'written' | 'refused'> {
    try {
      await within(this.putDeadlineMs, this.client.putRow({ tableName: this.tableName, ...row }));
      return 'written';
    } catch (error) {
      const code = otsCode(error);
      if (code === 'OTSConditionCheckFail') return 'refused';
      // Refused as invalid: the same row would be refused on every retry, so not a 503.
      if (code === 'OTSParameterInvalid' || code === 'OTSInvalidPK') throw new UnstorableEventError(`Tablestore refused the event's row (PutRow: ${code})`, { cause: error });
      throw storeError('PutRow', error);
    }
  }
}

/**
 * `work`'s outcome, or a `PutDeadlineExceeded` failure once `ms` have passed. The SDK cannot be
 * told to stop, so a request that was sent may still land (and a scheduled retry still go out):
 * the client's own request timeout ends a hung connection, and the conditional put makes a late
 * write harmless.
 */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'PutDeadlineExceeded' })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
