import { createForwarder, type DeadLetter, type ForwardLog, type Forwarder, type RetryPolicy, type Sink } from '../../core/forward';
import type { Environment } from '../../core/environment';
import { loadForwardSettings } from '../../core/forward-settings';
import { lazySetup } from '../../core/lazy-setup';
import { jsonLine } from '../../core/log';
import { webhookSink } from '../../core/webhook-sink';
import { tablestoreLocation } from '../../providers/aliyun/settings';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { deadLetterTableOf, tablestoreDeadLetter } from '../../providers/aliyun/tablestore-dead-letter';
import { decodeTriggerEvent } from '../../providers/aliyun/tablestore-stream';
import type { FcContext } from './callback';
import { keptPerRoleKeys } from '../../providers/aliyun/role-keys';

/** What the function answers for a batch (Function Compute logs it; the trigger only needs success). */
export interface ForwardSummary {
  delivered: number;
  deadLettered: number;
  skipped: number;
}

export type FcForwardCallback = (error: Error | null, summary?: ForwardSummary) => void;

/** A Function Compute handler for Tablestore trigger events. */
export type FcForwardHandler = (event: unknown, context: FcContext, callback: FcForwardCallback) => void;

/** What the forward handler is built from; tests inject their own. */
export interface AliyunForwardDeps {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Default: the core's. */
  retry?: RetryPolicy;
  /** Default: one JSON line per record and sink on stdout. */
  log?: (entry: ForwardLog | { level: 'info' | 'warn'; msg: 'forward_batch'; records: number; skipped: string }) => void;
}

/**
 * Builds the forward function's handler for the events table's Tablestore trigger. A trigger
 * retries a failed batch until the Stream log expires and blocks the partition meanwhile, so a
 * record no retry delivered is written to the dead-letter table (`DINGTALK_DEAD_LETTER_TABLE`,
 * default `<EVENTS_TABLE>_dead_letters`) and the batch succeeds; it fails only when even that write
 * failed, so that the trigger retries rather than lose the record. With no sink set it acknowledges
 * every batch and forwards nothing (docs/forward.md).
 */
export function createHandler(deps: AliyunForwardDeps = {}): FcForwardHandler {
  const { env = process.env, log = jsonLine } = deps;
  // The settings, and a forwarder per set of the role's keys (rebuilt when they rotate).
  const setup = lazySetup(() => {
    const settings = loadForwardSettings(env);
    const forwarderFor = keptPerRoleKeys((credentials): Forwarder => {
      const { tableName, endpoint, instance } = tablestoreLocation(env);
      const client = createTablestoreClient({ endpoint, instance, accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.accessKeySecret, securityToken: credentials.securityToken });
      const deadLetter: DeadLetter = tablestoreDeadLetter({ client, tableName: env.DINGTALK_DEAD_LETTER_TABLE?.trim() || deadLetterTableOf(tableName) });
      const sinks: Sink[] = settings.webhook ? [webhookSink(settings.webhook)] : [];
      return createForwarder({ sinks, deadLetter, types: settings.types, ...(deps.retry && { retry: deps.retry }), log });
    });
    return { settings, forwarderFor };
  });

  const run = async (event: unknown, context: FcContext): Promise<ForwardSummary> => {
    const { settings, forwarderFor } = await setup();
    const bytes = Buffer.isBuffer(event) || event instanceof Uint8Array ? event : undefined;
    if (!bytes) throw new TypeError('not a Tablestore trigger event: Function Compute passes its CBOR as bytes');
    const rows = await decodeTriggerEvent(bytes);
    const summary: ForwardSummary = { delivered: 0, deadLettered: 0, skipped: 0 };
    if (!settings.webhook) {
      log({ level: 'info', msg: 'forward_batch', records: rows.length, skipped: 'no sink set (DINGTALK_FORWARD_URL)' });
      return { ...summary, skipped: rows.length };
    }
    if (!context.credentials) throw new Error('Function Compute passed no credentials: the service needs a RAM role allowed to write the dead-letter table');
    for (const row of rows) if ('skipped' in row) log({ level: 'warn', msg: 'forward_batch', records: 1, skipped: row.skipped });
    const records = rows.flatMap((row) => ('record' in row ? [row.record] : []));
    const { outcomes, failed } = await forwarderFor(context.credentials).forwardBatch(records);
    if (failed.length > 0) throw new Error(`${failed.length} record(s) could be neither delivered nor dead-lettered; the trigger retries the batch`);
    for (const outcome of outcomes) {
      if (outcome === 'delivered') summary.delivered += 1;
      else if (outcome === 'dead_lettered') summary.deadLettered += 1;
      else summary.skipped += 1;
    }
    summary.skipped += rows.length - records.length;
    return summary;
  };

  return (event, context, callback) => {
    run(event, context).then(
      (summary) => callback(null, summary),
      (error: Error) => callback(error),
    );
  };
}

/** The Function Compute entry, `handlers/aliyun/forward.handler`, configured from `process.env` at the first invocation. */
export const handler = createHandler();
