import { isDeepStrictEqual } from 'node:util';

/** Log Service's default tokenizer characters. */
const TOKENS = [',', ' ', "'", '"', ';', '=', '(', ')', '[', ']', '{', '}', '?', '@', '&', '<', '>', '/', ':', '\n', '\t', '\r'];
const text = { type: 'text', token: TOKENS, caseSensitive: false, doc_value: true };
const long = { type: 'long', doc_value: true };

/**
 * The logstore index. Function Compute stores each line a function writes in the field `message`;
 * the per-push line of core/log.ts is JSON, so `message` is a JSON index over its fields (queries
 * such as `message.outcome: store_failed`, and SQL over `message.latencyMs`), next to the
 * `functionName` the provider indexed, and a full-text index of every line.
 */
export const LOG_INDEX = {
  ttl: 30,
  line: { token: TOKENS, caseSensitive: false },
  keys: {
    functionName: text,
    message: {
      ...text,
      type: 'json',
      index_all: false,
      max_depth: 1,
      json_keys: { level: text, msg: text, outcome: text, eventType: text, id: text, error: text, reason: text, status: long, latencyMs: long },
    },
  },
};

/** The Log Service calls of `@alicloud/log` the bridge makes. */
export interface LogIndexClient {
  getIndexConfig(project: string, store: string): Promise<{ keys?: object; line?: object }>;
  createIndex(project: string, store: string, index: object): Promise<unknown>;
  updateIndex(project: string, store: string, index: object): Promise<unknown>;
}

/**
 * The provider creates the logstore's index only when there is none; an index of an older deploy
 * (the provider's covered `functionName` only) is brought up to {@link LOG_INDEX}.
 * @returns what was done.
 */
export async function ensureLogIndex(sls: LogIndexClient, project: string, store: string): Promise<'created' | 'updated' | 'unchanged'> {
  let deployed: { keys?: object };
  try {
    deployed = await sls.getIndexConfig(project, store);
  } catch (error) {
    if ((error as { code?: string }).code !== 'IndexConfigNotExist') throw error;
    await sls.createIndex(project, store, LOG_INDEX);
    return 'created';
  }
  if (isDeepStrictEqual(deployed.keys, LOG_INDEX.keys)) return 'unchanged';
  await sls.updateIndex(project, store, LOG_INDEX);
  return 'updated';
}
