import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../core/settings';

const EVENTS = join(__dirname, 'events');

/** The published self-check credentials of docs/protocol.md. */
export const SAMPLE_ENV = {
  DINGTALK_TOKEN: 'mryue',
  DINGTALK_AES_KEY: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
  DINGTALK_OWNER_KEY: 'ding6ccabc44d2c8d38b',
};

/** Settings built from {@link SAMPLE_ENV}. */
export const SAMPLE_SETTINGS = loadSettings(SAMPLE_ENV);

/** The ownerKey of {@link SAMPLE_SETTINGS}. */
export const SAMPLE_OWNER = SAMPLE_ENV.DINGTALK_OWNER_KEY;

/** A JSON fixture under `testkit/events/`, parsed. */
export function loadJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(EVENTS, name.endsWith('.json') ? name : `${name}.json`), 'utf8')) as T;
}

/** A DingTalk event fixture as DingTalk sends it: compact JSON text, optionally with fields overridden. */
export function eventText(name: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...loadJson(name), ...overrides });
}

/** The names of every DingTalk event fixture (cloud event fixtures start with `apigw-`, `fc-` or `dynamodb-`). */
export function eventFixtureNames(): string[] {
  return readdirSync(EVENTS)
    .filter((file) => file.endsWith('.json') && !/^(apigw|fc|dynamodb)-/.test(file))
    .map((file) => file.replace(/\.json$/, ''))
    .sort();
}

/**
 * The id docs/architecture.md says `message` pushed for `ownerKey` is stored under, written here
 * apart from the core's `recordId` so tests check the core against the documented contract:
 * `<ownerKey>:event:<EventType>:<eventId>` for a message with its own non-empty string `eventId`,
 * else `<ownerKey>:sha256:<hex SHA-256 of its bytes>`; `hash:<hex SHA-256 of that>` over 512 bytes.
 */
export function recordId(message: string, ownerKey: string): string {
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const { eventId, EventType } = JSON.parse(message.replace(/^\uFEFF/, '')) as { eventId?: unknown; EventType: string };
  const owner = encodeURIComponent(ownerKey);
  const id = typeof eventId === 'string' && eventId !== '' ? `${owner}:event:${encodeURIComponent(EventType.trim())}:${eventId}` : `${owner}:sha256:${sha256(message)}`;
  return Buffer.byteLength(id) > 512 ? `hash:${sha256(id)}` : id;
}
