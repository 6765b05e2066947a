import { replyText } from '../core/callback';
import { HANDSHAKES, messageId, parseMessage } from '../core/events';
import { syncRecords } from '../core/sync-push';
import { openReply, pushUrl, sealPush } from '../core/dingtalk-side';
import type { Settings } from '../core/settings';

/** Where pushes go, and as whom: the credentials DingTalk and the function share. */
export interface Target {
  url: string;
  settings: Settings;
  ownerKey: string;
}

/** What became of one push. */
export interface Delivery {
  /** The reply verified, decrypted and said what DingTalk expects (`success`, or a suite check's Random). */
  ok: boolean;
  status: number;
  latencyMs: number;
  /** What the reply decrypted to, when it did. */
  reply?: string;
  /** Why it is not ok: the server's error code and message, or what was wrong with the reply. */
  problem?: string;
  /** Nothing answered at the URL (refused, unknown host, reset): no push reached a function. */
  unreachable?: boolean;
  /** The function's error code, when it answered one (`bad_signature`…). */
  code?: string;
  /** The id the record is stored under (undefined for a handshake, which is not stored, or a non-event); a SyncHTTP push's first row's. */
  id?: string;
  /** A SyncHTTP push: the id of each row's record, in the push's order. */
  rows?: string[];
}

/**
 * The records the core makes of `message` pushed for `ownerKey`, as their ids and payloads: none for
 * a handshake or a non-event, else one, or for a SyncHTTP push one per row (`rows` set).
 */
export function storedRecords(message: string, ownerKey: string): { records: Array<{ id: string; payload: string }>; rows?: true } {
  try {
    const parsed = parseMessage(Buffer.from(message, 'utf8'));
    if (HANDSHAKES.has(parsed.eventType)) return { records: [] };
    const rows = syncRecords(parsed, ownerKey, new Date());
    return rows ? { records: rows, rows: true } : { records: [{ id: messageId(parsed, ownerKey), payload: message }] };
  } catch {
    return { records: [] };
  }
}

/** Seals `message` as DingTalk does, POSTs it, and checks the reply as DingTalk would. */
export async function deliver(target: Target, message: string): Promise<Delivery> {
  const push = sealPush(target.settings, message, target.ownerKey);
  const stored = storedRecords(message, target.ownerKey);
  const rows = stored.rows ? { rows: stored.records.map((record) => record.id) } : {};
  const id = stored.records[0]?.id;
  const started = performance.now();
  let status = 0;
  let body: string;
  try {
    const response = await fetch(pushUrl(target.url, push), { method: 'POST', headers: { 'content-type': 'application/json' }, body: push.body });
    status = response.status;
    body = await response.text();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const problem = `could not reach ${target.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
    return { ok: false, status, latencyMs: performance.now() - started, problem, id, ...rows, unreachable: true };
  }
  const latencyMs = performance.now() - started;
  if (status !== 200) {
    // The function's errors are {error, message}; a gateway's or another server's may hold either, or neither.
    const answer = safeJson(body);
    const said = [answer?.error, answer?.message].filter((part) => typeof part === 'string').join(': ') || body.slice(0, 120);
    const hint = status === 404 ? ' (no callback at this URL: the function serves the path /dingtalk)' : '';
    return { ok: false, status, latencyMs, problem: `${said}${hint}`, id, ...rows, ...(typeof answer?.error === 'string' && { code: answer.error }) };
  }
  try {
    const reply = openReply(target.settings, body, target.ownerKey);
    const expected = replyText(parseMessage(Buffer.from(message, 'utf8')));
    return reply === expected ? { ok: true, status, latencyMs, reply, id, ...rows } : { ok: false, status, latencyMs, reply, problem: `reply decrypts to "${reply.slice(0, 40)}", not "${expected}"`, id, ...rows };
  } catch (error) {
    return { ok: false, status, latencyMs, problem: `reply does not verify: ${(error as Error).message}`, id, ...rows };
  }
}

function safeJson(text: string): { error?: unknown; message?: unknown } | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
