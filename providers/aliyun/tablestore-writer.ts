import TableStore from 'tablestore';
import { UnstorableEventError } from '../../core/errors';
import type { EventRecord } from '../../core/events';
import { PUT_DEADLINE_MS, type EventWriter, type PutOutcome } from '../../core/store';
import { otsCode, storeError } from './tablestore-client';
import { toRow } from './tablestore-row';

/** The table and a client for it. */
export interface TablestoreEventWriterOptions {
  tableName: string;
  client: TableStore.Client;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

/** The function's side of the Tablestore store: one row per event keyed by its `id`, one `PutRow` expecting the row not to exist. */
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
    try {
      const putting = this.client.putRow({
        tableName: this.tableName,
        condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null),
        ...toRow(record),
      });
      await within(this.putDeadlineMs, putting);
      return 'created';
    } catch (error) {
      const code = otsCode(error);
      if (code === 'OTSConditionCheckFail') return 'duplicate';
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
