import { gzipSync } from 'node:zlib';
import TableStore from 'tablestore';
import { inboxEntries, inboxEntryId, inboxRows, type InboxEntry, type InboxRow, type RecoverInbox } from '../../core/inbox';
import { storeError } from './tablestore-errors';

/** The most compressed bytes one inbox row holds: a column takes 2 MB, a request 4 MB. */
const PART_BYTES = 1024 * 1024;

/**
 * The recover inbox on Tablestore: a table of its own (`RECOVER_INBOX_TABLE`) keyed by `source`
 * (the app) and `replyId` (arrival order). Entries are kept gzip-compressed in the binary column
 * `bodyGzip`, and one whose compressed body is over {@link PART_BYTES} is split over several rows
 * (`parts` on the first), so no reply DingTalk sends is ever too large to keep.
 */
export class TablestoreInbox implements RecoverInbox {
  constructor(private readonly options: { tableName: string; client: TableStore.Client }) {}

  async add(source: string, body: string, id = inboxEntryId(new Date())): Promise<string> {
    const { tableName, client } = this.options;
    for (const row of await inboxRows(id, body, PART_BYTES)) {
      const attributeColumns: TableStore.AttributeInput = [{ bodyGzip: row.bytes }];
      if (row.parts > 1) attributeColumns.push({ parts: TableStore.Long.fromNumber(row.parts) });
      await client.putRow({ tableName, condition: ignoringExistence(), primaryKey: [{ source }, { replyId: row.rowId }], attributeColumns }).catch((error: unknown) => {
        throw storeError('PutRow', error);
      });
    }
    return id;
  }

  async pending(source: string): Promise<InboxEntry[]> {
    const rows: InboxRow[] = [];
    for (const row of await this.range(source, TableStore.INF_MIN, TableStore.INF_MAX)) {
      const id = row.primaryKey?.find((column) => column.name === 'replyId')?.value;
      const cell = (name: string) => row.attributes?.find((column) => column.columnName === name)?.columnValue;
      const [bytes, text, parts] = [cell('bodyGzip'), cell('body'), cell('parts')];
      if (typeof id !== 'string') continue;
      // A row written before replies were compressed holds the text itself in `body`.
      if (Buffer.isBuffer(bytes)) rows.push({ rowId: id, bytes, parts: parts === undefined ? undefined : Number(parts.toString()) });
      else if (typeof text === 'string') rows.push({ rowId: id, bytes: gzipSync(text) });
    }
    return inboxEntries(rows);
  }

  async remove(source: string, id: string): Promise<void> {
    const { tableName, client } = this.options;
    // '0' follows '/', so the range holds the entry's own row and its pieces (`<id>/0001`…), no other entry's.
    const ids = (await this.range(source, id, `${id}0`)).map((row) => row.primaryKey?.find((column) => column.name === 'replyId')?.value).filter((rowId): rowId is string => typeof rowId === 'string');
    // The first row first: without it the entry is no longer whole, whatever happens to the rest.
    for (const replyId of [id, ...ids.filter((rowId) => rowId !== id)]) {
      await client.deleteRow({ tableName, condition: ignoringExistence(), primaryKey: [{ source }, { replyId }] }).catch((error: unknown) => {
        throw storeError('DeleteRow', error);
      });
    }
  }

  /** The rows of `source` from `start` (inclusive) to `end` (exclusive), in key order. */
  private async range(source: string, start: string | typeof TableStore.INF_MIN, end: string | typeof TableStore.INF_MAX): Promise<TableStore.ReadRow[]> {
    const { tableName, client } = this.options;
    const rows: TableStore.ReadRow[] = [];
    let from: TableStore.PrimaryKeyInput | undefined = [{ source }, { replyId: start }];
    while (from) {
      const page: Awaited<ReturnType<TableStore.Client['getRange']>> = await client
        .getRange({ tableName, direction: TableStore.Direction.FORWARD, inclusiveStartPrimaryKey: from, exclusiveEndPrimaryKey: [{ source }, { replyId: end }], maxVersions: 1 })
        .catch((error: unknown) => {
          throw storeError('GetRange', error);
        });
      rows.push(...page.rows);
      from = page.nextStartPrimaryKey?.map(({ name, value }) => ({ [name]: value }));
    }
    return rows;
  }
}

function ignoringExistence(): TableStore.Condition {
  return new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
}
