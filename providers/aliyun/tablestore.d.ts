// Types for the parts of the `tablestore` SDK (5.x, untyped) that the store, the deploy plugin and the
// local test server use. Names and shapes follow the SDK's lib/ sources.
declare module 'tablestore' {
  import type { Int64LE } from 'int64-buffer';

  namespace TableStore {
    /** An attribute or primary-key value as the SDK writes and reads it (integers are `Int64LE`). */
    type CellValue = string | number | boolean | Buffer | Int64LE;
    /** `INF_MIN` / `INF_MAX`: range bounds, only in range reads. */
    type Bound = typeof INF_MIN | typeof INF_MAX;
    /** Primary key as the SDK takes it: one single-entry object per key column, in schema order. */
    type PrimaryKeyInput = Array<Record<string, CellValue | Bound>>;
    /** Attribute columns as the SDK takes them: one single-entry object per column (plus an optional `timestamp`). */
    type AttributeInput = Array<Record<string, CellValue>>;

    interface ReadRow {
      primaryKey?: Array<{ name: string; value: CellValue }>;
      attributes?: Array<{ columnName: string; columnValue: CellValue; timestamp: Int64LE | null }>;
    }

    interface ClientConfig {
      accessKeyId: string;
      secretAccessKey: string;
      stsToken?: string;
      endpoint: string;
      instancename: string;
      /** Note: the SDK stores this on its global retry policy, so it applies to every client in the process. */
      maxRetries?: number;
      httpOptions?: { timeout?: number; maxSockets?: number };
    }

    interface PrimaryKeySchema { name: string; type: number | string; option?: number }
    interface DefinedColumnSchema { name: string; type: number }
    interface IndexMeta { name: string; primaryKey: string[]; definedColumn: string[]; indexUpdateMode?: number; indexType?: number }
    interface TableMeta { tableName: string; primaryKey: PrimaryKeySchema[]; definedColumn?: DefinedColumnSchema[] }

    class Condition {
      constructor(rowExistenceExpectation: number, columnCondition: SingleColumnCondition | null);
    }

    /** A condition on one column of the row as stored; `passIfMissing` lets a row without the column pass. */
    class SingleColumnCondition {
      constructor(columnName: string, columnValue: CellValue, comparator: number, passIfMissing?: boolean, latestVersionOnly?: boolean);
    }

    const ComparatorType: { EQUAL: number; NOT_EQUAL: number; GREATER_THAN: number; GREATER_EQUAL: number; LESS_THAN: number; LESS_EQUAL: number };

    class Client {
      constructor(config: ClientConfig);
      /** What it was made with. */
      readonly config: ClientConfig;
      listTable(params: Record<string, never>): Promise<{ tableNames: string[] }>;
      createTable(params: {
        tableMeta: TableMeta;
        reservedThroughput: { capacityUnit: { read: number; write: number } };
        tableOptions: { timeToLive: number; maxVersions: number };
        indexMetas?: IndexMeta[];
      }): Promise<unknown>;
      describeTable(params: { tableName: string }): Promise<{
        tableMeta: { tableName: string; primaryKey: Array<{ name: string; type: number }>; definedColumn: Array<{ name: string; type: number }> };
        indexMetas: Array<{ name: string; primaryKey: string[]; definedColumn: string[] }>;
        tableOptions?: { timeToLive: number; maxVersions: number };
        streamDetails?: { enableStream: boolean; streamId?: string; expirationTime?: number };
      }>;
      updateTable(params: {
        tableName: string;
        tableOptions: { timeToLive: number; maxVersions: number };
        streamSpecification?: { enableStream: boolean; expirationTime?: number };
      }): Promise<unknown>;
      createIndex(params: { mainTableName: string; indexMeta: IndexMeta; includeBaseData?: boolean }): Promise<unknown>;
      putRow(params: { tableName: string; condition: Condition; primaryKey: PrimaryKeyInput; attributeColumns: AttributeInput }): Promise<unknown>;
      /** Puts only, as this project uses it (bulk loads in tests); the answer is one entry per row, every table's rows in one list. */
      batchWriteRow(params: {
        tables: Array<{ tableName: string; rows: Array<{ type: 'PUT'; condition: Condition; primaryKey: PrimaryKeyInput; attributeColumns: AttributeInput }> }>;
      }): Promise<{ tables: Array<{ isOk: boolean; errorCode?: string | null; errorMessage?: string | null; tableName: string }> }>;
      getRow(params: { tableName: string; primaryKey: PrimaryKeyInput; maxVersions?: number }): Promise<{ row: ReadRow }>;
      deleteRow(params: { tableName: string; condition: Condition; primaryKey: PrimaryKeyInput }): Promise<unknown>;
      getRange(params: {
        tableName: string;
        direction: string;
        inclusiveStartPrimaryKey: PrimaryKeyInput;
        exclusiveEndPrimaryKey: PrimaryKeyInput;
        limit?: number;
        maxVersions?: number;
      }): Promise<{ rows: ReadRow[]; nextStartPrimaryKey: Array<{ name: string; value: CellValue }> | null }>;
    }

    const INF_MIN: { readonly __bound: 'min' };
    const INF_MAX: { readonly __bound: 'max' };
    const RowExistenceExpectation: { IGNORE: 0; EXPECT_EXIST: 1; EXPECT_NOT_EXIST: 2 };
    const Direction: { FORWARD: 'FORWARD'; BACKWARD: 'BACKWARD' };
    const PrimaryKeyType: { INTEGER: 1; STRING: 2; BINARY: 3 };
    const DefinedColumnType: { DCT_INTEGER: 1; DCT_DOUBLE: 2; DCT_BOOLEAN: 3; DCT_STRING: 4 };
    const IndexUpdateMode: { IUM_ASYNC_INDEX: 0; IUM_SYNC_INDEX: 1 };
    const IndexType: { IT_GLOBAL_INDEX: 0; IT_LOCAL_INDEX: 1 };
    const Long: { fromNumber(value: number): Int64LE };

    // PlainBuffer, the row encoding inside the protobuf messages (used by the local test server).
    const plainBufferConsts: Record<'VT_INF_MIN' | 'VT_INF_MAX' | 'VT_INTEGER' | 'VT_STRING', number>;
    const plainBufferCrc8: { crcInt8(checksum: number, value: number): number };
    class PlainBufferInputStream {
      constructor(data: { buffer: Buffer; offset: number; limit: number });
      buffer: Buffer;
      curPos: number;
      readRawLittleEndian32(): number;
      readRawByte(): number;
    }
    class PlainBufferCodedInputStream {
      constructor(input: PlainBufferInputStream);
      readTag(): number;
      readPrimaryKeyValue(checksum: number): { pkVal: CellValue | Bound; cellCheckSum: number };
      readRow(): ReadRow;
    }
    const PlainBufferBuilder: {
      serializePrimaryKey(primaryKey: PrimaryKeyInput): Buffer;
      serializeForPutRow(primaryKey: PrimaryKeyInput, attributeColumns: AttributeInput): Buffer;
    };
  }

  export = TableStore;
}
