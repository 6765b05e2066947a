import TableStore from 'tablestore';
import { StoreError } from '../../core/errors';
import { required, type Environment } from '../../core/settings';

/** Where a Tablestore instance is and who calls it (an AccessKey pair, or STS keys with their token). */
export interface TablestoreClientOptions {
  /** For example `https://my-instance.cn-hangzhou.ots.aliyuncs.com`. */
  endpoint: string;
  instance: string;
  accessKeyId: string;
  secretAccessKey: string;
  securityToken?: string;
}

/** Where the function stores events, from `EVENTS_TABLE`, `TABLESTORE_ENDPOINT` and `TABLESTORE_INSTANCE`. */
export interface TablestoreLocation {
  tableName: string;
  endpoint: string;
  instance: string;
}

/** @throws ConfigError naming the first of the three variables that is not set. */
export function tablestoreLocation(env: Environment): TablestoreLocation {
  return { tableName: required(env, 'EVENTS_TABLE'), endpoint: required(env, 'TABLESTORE_ENDPOINT'), instance: required(env, 'TABLESTORE_INSTANCE') };
}

/**
 * Builds a `tablestore` client. Failed reads are retried twice at most (the SDK's default is 20,
 * up to 3 s apart, far beyond DingTalk's 1500 ms); the SDK keeps that number process-wide.
 */
export function createTablestoreClient(options: TablestoreClientOptions): TableStore.Client {
  return new TableStore.Client({
    endpoint: options.endpoint,
    instancename: options.instance,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    stsToken: options.securityToken,
    maxRetries: 2,
    httpOptions: { timeout: 5000 }, // the SDK has no timeout of its own
  });
}

/**
 * The Tablestore error code of a failure (`OTSConditionCheckFail`, `OTSServerBusy`…). The SDK does
 * not decode the protobuf error body; it leaves its bytes in the message, where the code is plain ASCII.
 */
export function otsCode(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const found = typeof message === 'string' ? /\bOTS[A-Za-z]+/.exec(message) : null;
  return found?.[0] ?? (code === undefined ? undefined : String(code));
}

export function storeError(operation: string, cause: unknown): StoreError {
  return new StoreError(`Tablestore ${operation} failed (${otsCode(cause) ?? 'unknown error'})`, { cause });
}
