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
 * The id docs/architecture.md says `message` is stored under, written here apart from the core so tests
 * check the core against the contract: its own non-empty string `eventId`, else hex SHA-256 of it.
 */
export function agreedEventId(message: string): string {
  const { eventId } = JSON.parse(message) as { eventId?: unknown };
  return typeof eventId === 'string' && eventId !== '' ? eventId : createHash('sha256').update(message, 'utf8').digest('hex');
}
