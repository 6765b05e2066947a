import { terminalSafe } from './terminal-safe';

/**
 * One structured line per push. Fields are chosen so that no secret, ciphertext or decrypted
 * payload can reach a log: only ids, the event type, the outcome, the status and codes.
 */
export interface PushLog {
  level: 'info' | 'warn' | 'error';
  msg: 'push';
  requestId?: string;
  status: number;
  outcome: 'created' | 'duplicate' | 'check' | 'rejected' | 'store_failed' | 'failed';
  eventType?: string;
  /** The record's identity (`EventRecord.id`), once the message is decrypted. */
  id?: string;
  /** The error code answered, for rejections and failures. */
  error?: string;
  /** The class name of the underlying failure (for example a store SDK's exception name). */
  cause?: string;
  /** A SyncHTTP push: how many of its rows were new, already stored, or refused as unstorable. */
  rows?: { created: number; duplicate: number; refused: number };
  /** The ids of the SyncHTTP rows refused as unstorable. */
  refused?: string[];
  /** Why a push was refused, for refusals whose code alone does not say (an unstorable event). */
  reason?: string;
  latencyMs: number;
}

/** Where log lines go. */
export type Logger = (entry: PushLog) => void;

/**
 * Writes an entry as one JSON line on stdout, where Lambda and Function Compute collect it (and
 * `npm start` shows it on a terminal): what JSON leaves raw of pushed text, a bidirectional override
 * in an event type, the line separators, C1 controls, is written as its escape, the same string.
 */
export function jsonLine(entry: object): void {
  process.stdout.write(`${terminalSafe(JSON.stringify(entry))}\n`);
}

/** {@link jsonLine} for push lines. */
export const jsonLogger: Logger = jsonLine;
