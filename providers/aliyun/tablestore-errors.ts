import { StoreError } from '../../core/errors';

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
