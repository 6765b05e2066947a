import { buildRecord, type DingTalkMessage, type EventRecord } from './events';
import { nonEmptyString, objectOf, wholeNumber } from './fields';
import { arrayElementsText, keysNamedTwice } from './json-text';

/**
 * SyncHTTP, the HTTP way for ISV apps (docs/isv.md): one push carries several rows in `bizData`,
 * each the final state of one business object, and each row is stored as a record of its own with
 * `source: "sync"`.
 */

/** The EventTypes of a SyncHTTP data push: urgent rows (tickets, authorisations) and the rest. */
export const SYNC_PUSHES: ReadonlySet<string> = new Set(['SYNC_HTTP_PUSH_HIGH', 'SYNC_HTTP_PUSH_MEDIUM']);

/** The event type of a row that names neither a `syncAction` nor a `biz_type`: a row that is no object, say. */
export const UNNAMED_ROW_TYPE = 'sync_row';

/** The fields that name one business object, with `gmt_modified` its version: a row's identity when its data carries no `eventId`. */
const OBJECT_FIELDS = ['subscribe_id', 'corp_id', 'biz_type', 'biz_id', 'gmt_modified'] as const;

/**
 * The records of a SyncHTTP push's rows, in the push's order, or undefined when `message` is no
 * SyncHTTP push with a `bizData` array (it is then stored whole, like any other event). An empty
 * array gives no records. Every row gives a record, whatever it holds (docs/isv.md, "Malformed rows").
 */
export function syncRecords(message: DingTalkMessage, ownerKey: string, receivedAt: Date): EventRecord[] | undefined {
  if (!SYNC_PUSHES.has(message.eventType) || !Array.isArray(message.fields.bizData)) return undefined;
  const json = message.text.startsWith('\uFEFF') ? message.text.slice(1) : message.text;
  const rows = arrayElementsText(json, 'bizData') ?? [];
  return rows.map((text) => rowRecord(text, ownerKey, receivedAt));
}

/**
 * The record of one row, given as its verbatim JSON text:
 * - `eventType`: `biz_data.syncAction`, else `biz_type_<n>`, else {@link UNNAMED_ROW_TYPE};
 * - identity: `biz_data.eventId` when there is one (the same event by Stream is then the same
 *   record), else the object and its version (`subscribe_id`, `corp_id`, `biz_type`, `biz_id`,
 *   `gmt_modified`) under `sync:`, else (a row lacking one of those) the row's own bytes under `sync:`;
 * - `corpId` = `corp_id`, `eventTime` = `gmt_modified`, `processInstanceId` from `biz_data`;
 * - `payload`: the row verbatim, its `biz_data` JSON text included.
 */
export function rowRecord(text: string, ownerKey: string, receivedAt: Date): EventRecord {
  const row = objectOf(JSON.parse(text));
  const data = row && bizData(row.biz_data);
  const bizType = row && wholeNumber(row.biz_type);
  const eventType = nonEmptyString(typeof data?.syncAction === 'string' ? data.syncAction.trim() : undefined) ?? (bizType !== undefined ? `biz_type_${bizType}` : UNNAMED_ROW_TYPE);
  return buildRecord({
    ownerKey,
    eventType,
    source: 'sync',
    receivedAt,
    payload: text,
    eventId: nonEmptyString(data?.eventId),
    bytes: Buffer.from(objectVersion(row) ?? `row\n${text}`, 'utf8'),
    derived: 'sync',
    corpId: row && nonEmptyString(row.corp_id),
    eventTime: row && wholeNumber(row.gmt_modified),
    processInstanceId: nonEmptyString(data?.processInstanceId),
  });
}

/**
 * A row's `biz_data` parsed, when it is JSON text of an object naming neither `syncAction` nor
 * `eventId` twice (an ambiguous one is read as no data, so the row keeps its object identity).
 */
export function bizData(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const data = objectOf(JSON.parse(value));
    return data && keysNamedTwice(value, ['syncAction', 'eventId']).length === 0 ? data : undefined;
  } catch {
    return undefined;
  }
}

/** The business object and its version as text, when the row names all of it with strings or numbers. */
function objectVersion(row: Record<string, unknown> | undefined): string | undefined {
  if (!row) return undefined;
  const parts = OBJECT_FIELDS.map((name) => row[name]);
  if (!parts.every((part) => (typeof part === 'string' && part !== '') || (typeof part === 'number' && Number.isFinite(part)))) return undefined;
  // A JSON array of strings: "4" and 4 name the same biz_type; no row's "row\n…" text starts with "[".
  return JSON.stringify(parts.map(String));
}
