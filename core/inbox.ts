import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

/**
 * Where the recover pass keeps what it read from DingTalk's failed list (docs/recover.md).
 * DingTalk deletes what `get_call_back_failed_result` returns, so each reply's raw bytes are made
 * durable here before anything else is done with them (not even parsing), and removed only once
 * every item is stored or set aside. A run that stops halfway leaves the reply for the next run to
 * finish. Items that cannot be stored, and replies that cannot be read, are set aside here too, as
 * text with the reason, under a source of their own: listed by `recover --set-aside`, never in the
 * way of a later run.
 */

/** One reply (or set-aside text) kept in the inbox. */
export interface InboxEntry {
  /** Sorts in arrival order within its source. */
  id: string;
  /** The text as it was kept: a reply as DingTalk sent it, or a set-aside entry ({@link SetAside} as JSON). */
  body: string;
}

/** The inbox port; each cloud keeps it in a small table of its own beside the events table. */
export interface RecoverInbox {
  /**
   * Stores `body` durably under `source` (`app:<appKey>`, `suite:<suiteKey>`, or either's
   * {@link asideSource}), answering its id: `id` when given (the same id again replaces it), else a
   * fresh one in arrival order. A body too large for one row is split over several, never refused.
   * @throws StoreError when it could not be stored.
   */
  add(source: string, body: string, id?: string): Promise<string>;
  /** The entries kept under `source`, oldest first; a split entry once all of its rows are in. */
  pending(source: string): Promise<InboxEntry[]>;
  /** Forgets an entry (all its rows). */
  remove(source: string, id: string): Promise<void>;
}

/** What was set aside: an item the store cannot hold, or a reply that cannot be read. */
export interface SetAside {
  /** Why, in a few words. */
  reason: string;
  /** ISO-8601 time it was set aside. */
  at: string;
  /** The item, or the whole reply, as text. */
  text: string;
}

/** The inbox source set-aside entries of `source` are kept under. */
export function asideSource(source: string): string {
  return `aside:${source}`;
}

let sequence = 0;

/** A fresh entry id: the time, so entries sort in arrival order, then a counter and randomness against ties. */
export function inboxEntryId(now: Date): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${now.toISOString()}#${String(sequence).padStart(6, '0')}#${Math.random().toString(36).slice(2, 10).padEnd(8, '0')}`;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * An entry's body as the rows that keep it: gzip-compressed, then cut into pieces of at most
 * `maxBytes`, each under the row id {@link partId}. The first row is written last, so an entry is
 * whole once its first row is there; rows of an entry cut short by a crash are never read.
 */
export async function inboxRows(id: string, body: string, maxBytes: number): Promise<Array<{ rowId: string; bytes: Buffer; parts: number }>> {
  const packed = await gzipAsync(body);
  const parts = Math.max(1, Math.ceil(packed.length / maxBytes));
  const rows = Array.from({ length: parts }, (_, index) => ({ rowId: partId(id, index), bytes: packed.subarray(index * maxBytes, (index + 1) * maxBytes), parts }));
  return [...rows.slice(1), rows[0]!];
}

/** The row id of piece `index` of entry `id`: the id itself for the first, `<id>/0001` and on for the rest. */
export function partId(id: string, index: number): string {
  return index === 0 ? id : `${id}/${String(index).padStart(4, '0')}`;
}

/** One row as a store read it back. */
export interface InboxRow {
  rowId: string;
  bytes: Buffer;
  /** How many rows its entry has (on the first row; 1 when absent). */
  parts?: number;
}

/** The whole entries among `rows` (in row id order), oldest first; pieces without their whole are left out. */
export async function inboxEntries(rows: readonly InboxRow[]): Promise<InboxEntry[]> {
  const pieces = new Map(rows.map((row) => [row.rowId, row]));
  const entries: InboxEntry[] = [];
  for (const row of rows) {
    if (row.rowId.includes('/')) continue;
    const parts = row.parts ?? 1;
    const all = Array.from({ length: parts }, (_, index) => pieces.get(partId(row.rowId, index))?.bytes);
    if (all.some((bytes) => bytes === undefined)) continue;
    entries.push({ id: row.rowId, body: (await gunzipAsync(Buffer.concat(all as Buffer[]))).toString('utf8') });
  }
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** An inbox in process memory, for the core's tests. */
export class MemoryInbox implements RecoverInbox {
  readonly entries = new Map<string, Map<string, string>>();

  async add(source: string, body: string, id = inboxEntryId(new Date())): Promise<string> {
    if (!this.entries.has(source)) this.entries.set(source, new Map());
    this.entries.get(source)!.set(id, body);
    return id;
  }

  async pending(source: string): Promise<InboxEntry[]> {
    return [...(this.entries.get(source) ?? new Map<string, string>())].sort(([a], [b]) => a.localeCompare(b)).map(([id, body]) => ({ id, body }));
  }

  async remove(source: string, id: string): Promise<void> {
    this.entries.get(source)?.delete(id);
  }
}
