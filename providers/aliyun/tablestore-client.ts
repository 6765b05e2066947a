import TableStore from 'tablestore';
import { StoreError } from '../../core/errors';

/** Where a Tablestore instance is and who calls it (an AccessKey pair, or STS keys with their token). */
export interface TablestoreClientOptions {
  /** For example `https://my-instance.cn-hangzhou.ots.aliyuncs.com`. */
  endpoint: string;
  instance: string;
  accessKeyId: string;
  secretAccessKey: string;
  securityToken?: string;
  /**
   * How long one request may wait for the service (default 5000 ms): the SDK has no timeout of its
   * own, so without one a hung connection holds its request forever.
   */
  timeoutMs?: number;
}

/**
 * Builds a `tablestore` client. Failed reads are retried twice at most (the SDK's default is 20,
 * up to 3 s apart, far beyond DingTalk's 2.5 s for a push); the SDK keeps that number process-wide.
 */
export function createTablestoreClient(options: TablestoreClientOptions): TableStore.Client {
  return new TableStore.Client({
    endpoint: options.endpoint,
    instancename: options.instance,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    stsToken: options.securityToken,
    maxRetries: 2,
    httpOptions: { timeout: options.timeoutMs ?? 5000 },
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
