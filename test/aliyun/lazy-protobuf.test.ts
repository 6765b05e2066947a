import { expect } from 'chai';
import { build } from 'esbuild';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import TableStore from 'tablestore';
import type { EventRecord } from '../../core/events';
import { functionBundleOptions } from '../../deploy/aliyun/function-bundle';
import { BUNDLED_OPERATIONS } from '../../deploy/aliyun/esbuild-lazy-protobuf';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { tablestoreDeadLetter } from '../../providers/aliyun/tablestore-dead-letter';
import { TablestoreInbox } from '../../providers/aliyun/tablestore-inbox';
import { decodeTriggerEvent } from '../../providers/aliyun/tablestore-stream';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureDeadLetterTable, ensureEventTable, ensureInboxTable } from '../../deploy/aliyun/tablestore-tables';
import { sampleRecord } from '../../testkit/store-contract';
import { tablestoreTriggerEvent } from '../../testkit/stream-events';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';

const ROOT = resolve(__dirname, '../..');
const HANDLERS = ['callback', 'recover', 'forward', 'stream'].map((name) => join(ROOT, `handlers/aliyun/${name}.ts`));

/** The functions' Tablestore code and the SDK itself, as the function bundles carry them. */
const BUNDLED_MODULES = `
export { default as TableStore } from 'tablestore';
export { createTablestoreClient } from './providers/aliyun/tablestore-client';
export { tablestoreDeadLetter } from './providers/aliyun/tablestore-dead-letter';
export { TablestoreInbox } from './providers/aliyun/tablestore-inbox';
export { decodeTriggerEvent } from './providers/aliyun/tablestore-stream';
export { TablestoreEventStore } from './providers/aliyun/tablestore-store';
`;
interface Bundled {
  TableStore: typeof TableStore;
  createTablestoreClient: typeof createTablestoreClient;
  tablestoreDeadLetter: typeof tablestoreDeadLetter;
  TablestoreInbox: typeof TablestoreInbox;
  decodeTriggerEvent: typeof decodeTriggerEvent;
  TablestoreEventStore: typeof TablestoreEventStore;
}

describe("the Alibaba functions' bundled tablestore SDK, trimmed to the protobuf types of their operations", function () {
  this.timeout(30_000);
  let server: LocalTablestore;
  let dir: string;
  let bundled: Bundled;
  let bundleText: string;
  before(async function () {
    server = await startTablestoreServer();
    dir = await mkdtemp(join(tmpdir(), 'lazy-protobuf-'));
    const { outputFiles } = await build({ ...functionBundleOptions('20'), stdin: { contents: BUNDLED_MODULES, resolveDir: ROOT, loader: 'ts' }, write: false });
    bundleText = outputFiles![0]!.text;
    await writeFile(join(dir, 'tablestore.cjs'), outputFiles![0]!.contents);
    bundled = createRequire(join(dir, 'index.cjs'))('./tablestore.cjs') as Bundled;
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is the only Tablestore the functions call: every SDK operation in their code is one whose types it keeps', async function () {
    // The client's protobuf operations: those the SDK's encoder has an `encode<Operation>` for.
    const { encoder } = TableStore as unknown as { encoder: Record<string, unknown> };
    const operations = Object.keys(TableStore.Client.prototype).filter((method) => typeof encoder[`encode${method[0]!.toUpperCase()}${method.slice(1)}`] === 'function');
    expect(operations).to.include.members([...BUNDLED_OPERATIONS, 'updateRow', 'batchWriteRow', 'search']);
    // Unminified and tree-shaken: the code of ours each function keeps, under a `// providers/...` line per file.
    const { outputFiles } = await build({ ...functionBundleOptions('20'), minify: false, entryPoints: HANDLERS, outdir: join(dir, 'handlers'), write: false });
    const ownCode = outputFiles!.flatMap((file) => file.text.split(/^(?=\/\/ [\w./-]+\.[jt]s$)/m)).filter((part) => /^\/\/ (core|providers|handlers)\//.test(part));
    expect(ownCode.map((part) => part.split('\n')[0])).to.include.members(['// providers/aliyun/tablestore-writer.ts', '// providers/aliyun/tablestore-inbox.ts', '// providers/aliyun/tablestore-dead-letter.ts']);
    // package.json's "sideEffects": false lets each bundle drop what its function never calls: the callback carries no recover or forward code.
    const callbackCode = outputFiles!.find((file) => file.path.endsWith('callback.js'))!.text;
    expect(callbackCode).to.include('// core/callback.ts');
    for (const file of ['core/recover.ts', 'core/inbox.ts', 'core/forward.ts', 'providers/aliyun/tablestore-inbox.ts', 'providers/aliyun/tablestore-store.ts']) expect(callbackCode, file).to.not.include(`// ${file}\n`);
    // The callback and stream functions only put, through tablestore-put-client.ts: no SDK in their bundles, and no ws in the callback's.
    const bundleOf = (name: string) => outputFiles!.find((file) => file.path.endsWith(`${name}.js`))!.text;
    for (const name of ['callback', 'stream']) expect(bundleOf(name), name).to.include('// providers/aliyun/tablestore-put-client.ts').and.not.include('// node_modules/tablestore/');
    expect(callbackCode).to.not.include('// node_modules/ws/');
    const called = new Set(ownCode.flatMap((part) => [...part.matchAll(/\.\s*(\w+)\s*\(/g)].map((call) => call[1]!)).filter((method) => operations.includes(method)));
    expect([...called].sort(), 'deploy/aliyun/esbuild-lazy-protobuf.ts BUNDLED_OPERATIONS').to.deep.equal([...BUNDLED_OPERATIONS].sort());
  });

  it('leaves search and SQL out: their namespaces are absent, and neither their code nor flatbuffers is in the bundle', function () {
    const sdk = bundled.TableStore as unknown as Record<string, unknown>;
    expect((TableStore as unknown as Record<string, unknown>).QueryType).to.not.equal(undefined);
    expect(sdk.QueryType).to.equal(undefined);
    expect(sdk.SQLDataType).to.equal(undefined);
    expect(sdk.Condition).to.not.equal(undefined);
    expect(bundleText).to.not.match(/FILE_IDENTIFIER_LENGTH|Column index /); // flatbuffers, sql.js (search.js holds enums only: QueryType above)
    expect(bundleText).to.include('esbuild-no-search-or-sql.ts leaves search and SQL out');
  });

  it('puts, gets and lists events: created, a duplicate refused by its condition, found, missing, paged by every index; no DeprecationWarning', async function () {
    const warnings: string[] = [];
    const warned = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', warned);
    after(() => process.off('warning', warned));
    await ensureEventTable(createTablestoreClient(server.clientOptions), 'events');
    const store = new bundled.TablestoreEventStore({ tableName: 'events', client: bundled.createTablestoreClient(server.clientOptions) });
    const reference = new TablestoreEventStore({ tableName: 'events', client: createTablestoreClient(server.clientOptions) });
    const contact = (n: number): EventRecord => {
      const { processInstanceId: _, ...record } = sampleRecord(n, { eventType: 'user_add_org' });
      return record;
    };
    const records = Array.from({ length: 7 }, (_, n) => (n % 2 === 0 ? sampleRecord(n + 1) : contact(n + 1)));
    for (const record of records) expect(await store.put(record)).to.equal('created');
    expect(await store.put(records[0]!)).to.equal('duplicate');
    expect(await store.get(records[3]!.id)).to.deep.equal(await reference.get(records[3]!.id));
    expect(await store.get(records[3]!.id)).to.deep.equal(records[3]);
    expect(await store.get('no-such-record')).to.equal(undefined);
    for (const query of [{}, { eventType: 'user_add_org' }, { processInstanceId: records[0]!.processInstanceId! }]) {
      const listed: EventRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ ...query, limit: 2, cursor });
        listed.push(...page.records);
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect(listed, JSON.stringify(query)).to.deep.equal((await reference.list({ ...query, limit: 100 })).records);
      expect(listed).to.have.length.above(1);
    }
    // Each put's numbers went through int64-buffer, and its response's empty row through protobufjs's reader: both called `new Buffer`.
    await new Promise(setImmediate);
    expect(warnings).to.deep.equal([]);
  });

  it("keeps the recover inbox (put, a forward range read, delete) and forward's dead letters", async function () {
    const client = createTablestoreClient(server.clientOptions);
    await ensureInboxTable(client, 'inbox');
    const inbox = new bundled.TablestoreInbox({ tableName: 'inbox', client: bundled.createTablestoreClient(server.clientOptions) });
    const ids = [await inbox.add('app', '{"a":1}'), await inbox.add('app', '{"b":2}'), await inbox.add('other', '{}')];
    expect(await inbox.pending('app')).to.deep.equal([{ id: ids[0], body: '{"a":1}' }, { id: ids[1], body: '{"b":2}' }]);
    await inbox.remove('app', ids[0]!);
    expect(await inbox.pending('app')).to.deep.equal(await new TablestoreInbox({ tableName: 'inbox', client }).pending('app'));
    expect(await inbox.pending('app')).to.deep.equal([{ id: ids[1], body: '{"b":2}' }]);

    await ensureDeadLetterTable(client, 'dead_letters');
    const { id, ownerKey, eventType, receivedAt } = sampleRecord(1);
    const entry = { id, ownerKey, eventType, receivedAt, webhookId: 'msg_1', sink: 'webhook', reason: 'HTTP 500', attempts: 4, failedAt: '2026-11-28T01:00:00.000Z' };
    await bundled.tablestoreDeadLetter({ client: bundled.createTablestoreClient(server.clientOptions), tableName: 'dead_letters' }).put(entry);
    const { row } = await client.getRow({ tableName: 'dead_letters', primaryKey: [{ deadLetterId: `${entry.failedAt}|msg_1|webhook` }] });
    expect(String(row.attributes?.find((column) => column.columnName === 'attempts')?.columnValue)).to.equal('4');
  });

  it("decodes a Tablestore trigger's CBOR event as the SDK's own build does", async function () {
    const event = await tablestoreTriggerEvent();
    expect(await bundled.decodeTriggerEvent(event)).to.deep.equal(await decodeTriggerEvent(event));
  });

  it('fails an operation whose types it left out, naming the type and where to add the operation', async function () {
    const client = bundled.createTablestoreClient(server.clientOptions);
    const rows = [{ type: 'PUT' as const, condition: new bundled.TableStore.Condition(bundled.TableStore.RowExistenceExpectation.IGNORE, null), primaryKey: [{ id: 'x' }], attributeColumns: [{ a: 'b' }] }];
    const failure = (await client.batchWriteRow({ tables: [{ tableName: 'events', rows }] }).catch((error: unknown) => error)) as Error;
    expect(failure).to.be.instanceOf(Error);
    expect(failure.message).to.contain('main.proto.BatchWriteRowRequest').and.to.contain('BUNDLED_OPERATIONS');
  });
});
