import TableStore from 'tablestore';
import { ALIYUN_TABLES } from '../../core/table-names';

const STRING = TableStore.DefinedColumnType.DCT_STRING;

/**
 * The events table's predefined columns: every record field but the key (`id`), so the indexes can
 * carry whole records. The store reads by them; the deploy creates the table with them.
 */
export const EVENT_COLUMNS: readonly TableStore.DefinedColumnSchema[] = [
  { name: 'eventId', type: STRING },
  { name: 'eventType', type: STRING },
  { name: 'ownerKey', type: STRING },
  { name: 'source', type: STRING },
  { name: 'corpId', type: STRING },
  { name: 'eventTime', type: TableStore.DefinedColumnType.DCT_INTEGER },
  { name: 'receivedAt', type: STRING },
  { name: 'processInstanceId', type: STRING },
  { name: 'payload', type: STRING },
  { name: 'headers', type: STRING },
];

/**
 * The global secondary indexes that answer {@link EventStore.list} newest first. Each index key ends
 * with `receivedAt` (then `id`, which Tablestore appends), so a backward range read is the answer.
 * In the order by type, by process instance, by time.
 */
export function eventIndexes(tableName: string): TableStore.IndexMeta[] {
  const index = (name: string, primaryKey: string[]): TableStore.IndexMeta => ({
    name,
    primaryKey,
    definedColumn: EVENT_COLUMNS.map((column) => column.name).filter((name) => !primaryKey.includes(name)),
    indexUpdateMode: TableStore.IndexUpdateMode.IUM_ASYNC_INDEX,
    indexType: TableStore.IndexType.IT_GLOBAL_INDEX,
  });
  return [index(ALIYUN_TABLES.typeIndexOf(tableName), ['eventType', 'receivedAt']), index(`${tableName}_by_instance`, ['processInstanceId', 'receivedAt']), index(`${tableName}_by_time`, ['receivedAt'])];
}
