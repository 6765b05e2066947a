/**
 * Provisioning of the Tablestore tables the functions use, run by `sls deploy` (serverless-bridge.ts)
 * and by the tests and bench that stand a table up: the functions themselves never create a table.
 */
import TableStore from 'tablestore';
import { otsCode } from '../../providers/aliyun/tablestore-errors';
import { EVENT_COLUMNS, eventIndexes } from '../../providers/aliyun/tablestore-schema';

/**
 * Creates the events table and its indexes where missing; run on every deploy. An existing table
 * keeps its data: missing indexes are added and built from it. A table with another key or
 * without the predefined columns is left alone and reported, since fixing it would lose data.
 * @returns what was done.
 */
export async function ensureEventTable(client: TableStore.Client, tableName: string): Promise<'created' | 'updated' | 'unchanged'> {
  const { tableNames } = await client.listTable({});
  if (!tableNames.includes(tableName)) {
    try {
      await client.createTable({
        tableMeta: { tableName, primaryKey: [{ name: 'id', type: TableStore.PrimaryKeyType.STRING }], definedColumn: [...EVENT_COLUMNS] },
        reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
        // Secondary indexes need one version and no expiry.
        tableOptions: { timeToLive: -1, maxVersions: 1 },
        indexMetas: eventIndexes(tableName),
      });
      return 'created';
    } catch (error) {
      if (otsCode(error) !== 'OTSObjectAlreadyExist') throw error; // created meanwhile: check it below
    }
  }
  const { tableMeta, indexMetas } = await client.describeTable({ tableName });
  const key = tableMeta.primaryKey.map((column) => `${column.name}:${column.type}`).join(',');
  if (key !== `id:${TableStore.PrimaryKeyType.STRING}`) throw new Error(`Tablestore table ${tableName} exists with another primary key than id (STRING)`);
  const missing = EVENT_COLUMNS.filter((column) => !(tableMeta.definedColumn ?? []).some((defined) => defined.name === column.name && defined.type === column.type));
  if (missing.length > 0) {
    throw new Error(`Tablestore table ${tableName} lacks the predefined columns ${missing.map((column) => column.name).join(', ')}; add them in the console, then deploy again`);
  }
  let changed = false;
  for (const indexMeta of eventIndexes(tableName)) {
    if ((indexMetas ?? []).some((existing) => existing.name === indexMeta.name)) continue;
    await client.createIndex({ mainTableName: tableName, indexMeta, includeBaseData: true });
    changed = true;
  }
  return changed ? 'updated' : 'unchanged';
}


/** How long the table's Stream keeps a change, in hours (Tablestore's longest): a Tablestore trigger retries a failing batch until then. */
export const STREAM_EXPIRATION_HOURS = 168;

/**
 * Turns the table's Stream on when it is off, for a Tablestore trigger; an enabled Stream is left as
 * it is (its expiration included). The table's other options are sent back unchanged.
 * @returns what was done.
 */
export async function ensureEventStream(client: TableStore.Client, tableName: string): Promise<'enabled' | 'unchanged'> {
  const described = await client.describeTable({ tableName });
  if (described.streamDetails?.enableStream) return 'unchanged';
  const { timeToLive, maxVersions } = described.tableOptions ?? { timeToLive: -1, maxVersions: 1 };
  await client.updateTable({ tableName, tableOptions: { timeToLive, maxVersions }, streamSpecification: { enableStream: true, expirationTime: STREAM_EXPIRATION_HOURS } });
  return 'enabled';
}

/** How long a dead letter is kept: as long as the AWS dead-letter queue keeps its messages. */
const DEAD_LETTER_TTL_SECONDS = 14 * 24 * 3600;

/**
 * Creates the forward function's dead-letter table (`providers/aliyun/tablestore-dead-letter.ts`) when missing; an
 * existing one is left as it is. Run on every deploy of a function with a Tablestore trigger.
 * @returns what was done.
 */
export async function ensureDeadLetterTable(client: TableStore.Client, tableName: string): Promise<'created' | 'unchanged'> {
  const { tableNames } = await client.listTable({});
  if (tableNames.includes(tableName)) return 'unchanged';
  try {
    await client.createTable({
      tableMeta: { tableName, primaryKey: [{ name: 'deadLetterId', type: TableStore.PrimaryKeyType.STRING }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: DEAD_LETTER_TTL_SECONDS, maxVersions: 1 },
    });
    return 'created';
  } catch (error) {
    if (otsCode(error) !== 'OTSObjectAlreadyExist') throw error;
    return 'unchanged';
  }
}

/** Creates the inbox table where missing; run on every deploy of a function with `RECOVER_INBOX_TABLE` (`providers/aliyun/tablestore-inbox.ts`). */
export async function ensureInboxTable(client: TableStore.Client, tableName: string): Promise<'created' | 'unchanged'> {
  const { tableNames } = await client.listTable({});
  if (tableNames.includes(tableName)) return 'unchanged';
  try {
    await client.createTable({
      tableMeta: { tableName, primaryKey: [{ name: 'source', type: TableStore.PrimaryKeyType.STRING }, { name: 'replyId', type: TableStore.PrimaryKeyType.STRING }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    return 'created';
  } catch (error) {
    if (otsCode(error) === 'OTSObjectAlreadyExist') return 'unchanged';
    throw error;
  }
}
