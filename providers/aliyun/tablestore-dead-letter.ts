import TableStore from 'tablestore';
import type { DeadLetter } from '../../core/forward';
import { storeError } from './tablestore-errors';

/**
 * The forward function's dead letters on Alibaba Cloud: one row per record a sink would not take,
 * keyed `<failedAt>|<webhook-id>|<sink>` so that rows sort by time and a record that fails again
 * later gets a row of its own. The row names the event, never carries its payload: the record stays
 * in the events table, and `dingtalk-callback forward` re-sends it from there.
 */
export function tablestoreDeadLetter({ client, tableName }: { client: TableStore.Client; tableName: string }): DeadLetter {
  return {
    async put(entry) {
      const { attempts, ...text } = entry;
      const attributeColumns: TableStore.AttributeInput = Object.entries(text).map(([name, value]) => ({ [name]: value }));
      attributeColumns.push({ attempts: TableStore.Long.fromNumber(attempts) });
      await client
        .putRow({
          tableName,
          condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
          primaryKey: [{ deadLetterId: `${entry.failedAt}|${entry.webhookId}|${entry.sink}` }],
          attributeColumns,
        })
        .catch((error: unknown) => {
          throw storeError('PutRow (dead letter)', error);
        });
    },
  };
}
