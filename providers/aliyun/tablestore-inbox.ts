import TableStore from 'tablestore';
import { inboxEntryId, type InboxEntry, type RecoverInbox } from '../../core/inbox';
import { storeError } from './tablestore-client';

/**
 * The recover inbox on Tablestore: a table of its own (`RECOVER_INBOX_TABLE`) keyed by `source`
 * (the app) and `replyId` (arrival order), each reply in one `body` column (2 MB at most).
 */
export class TablestoreInbox implements RecoverInbox {
  constructor(private readonly options: { tableName: string; client: TableStore.Client }) {}

  async add(source: string, body: string): Promise<string> {
    const replyId = inboxEntryId(new Date());
    const { tableName, client } = this.options;
    await client
      .putRow({ tableName, condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null), primaryKey: [{ source }, { replyId }], attributeColumns: [{ body }] })
      .catch((error: unknown) => {
        throw storeError('PutRow', error);
      });
    return replyId;
  }

  async pending(source: string): Promise<InboxEntry[]> {
    const { tableName, client } = this.options;
    const entries: InboxEntry[] = [];
    let start: TableStore.PrimaryKeyInput | undefined = [{ source }, { replyId: TableStore.INF_MIN }];
    while (start) {
      const page: Awaited<ReturnType<TableStore.Client['getRange']>> = await client
        .getRange({ tableName, direction: TableStore.Direction.FORWARD, inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: [{ source }, { replyId: TableStore.INF_MAX }], maxVersions: 1 })
        .catch((error: unknown) => {
          throw storeError('GetRange', error);
        });
      for (const row of page.rows) {
        const id = row.primaryKey?.find((column) => column.name === 'replyId')?.value;
        const body = row.attributes?.find((column) => column.columnName === 'body')?.columnValue;
        if (typeof id === 'string' && typeof body === 'string') entries.push({ id, body });
      }
      start = page.nextStartPrimaryKey?.map(({ name, value }) => ({ [name]: value }));
    }
    return entries;
  }

  async remove(source: string, id: string): Promise<void> {
    const { tableName, client } = this.options;
    await client
      .deleteRow({ tableName, condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null), primaryKey: [{ source }, { replyId: id }] })
      .catch((error: unknown) => {
        throw storeError('DeleteRow', error);
      });
  }
}
