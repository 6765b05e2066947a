import TableStore from 'tablestore';
import { UnstorableEventError } from '../../core/errors';
import type { EventRecord } from '../../core/events';
import type { EventWriter, PutOutcome } from '../../core/store';
import { otsCode, storeError } from './tablestore-client';
import { toRow } from './tablestore-row';

/** The function's side of the Tablestore store: one row per event keyed by its `id`, one `PutRow` expecting the row not to exist. */
export class TablestoreEventWriter implements EventWriter {
  protected readonly tableName: string;
  protected readonly client: TableStore.Client;

  constructor(options: { tableName: string; client: TableStore.Client }) {
    this.tableName = options.tableName;
    this.client = options.client;
  }

  async put(record: EventRecord): Promise<PutOutcome> {
    try {
      await this.client.putRow({
        tableName: this.tableName,
        condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null),
        ...toRow(record),
      });
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
