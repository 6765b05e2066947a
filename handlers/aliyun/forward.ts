import type { Environment } from '../../core/environment';
import type { ForwardLog, RetryPolicy } from '../../core/forward';
import { lazySetup } from '../../core/lazy-setup';
import { jsonLine } from '../../core/log';
import { eventBytes, fcHandler, roleKeysOf, type FcHandler } from '../../providers/aliyun/function-compute';
import { forwardSetup, type AliyunClients } from '../../providers/aliyun/setup';
import { decodeTriggerEvent } from '../../providers/aliyun/tablestore-stream';

/** What the function answers for a batch (Function Compute logs it; the trigger only needs success). */
export interface ForwardSummary {
  delivered: number;
  deadLettered: number;
  skipped: number;
}

/** A Function Compute handler for Tablestore trigger events. */
export type FcForwardHandler = FcHandler<ForwardSummary>;

/** What the forward handler is built from; tests inject their own. */
export interface AliyunForwardDeps extends AliyunClients {
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
 * record no retry delivered is written to the dead-letter table and the batch succeeds; it fails
 * only when even that write failed, so that the trigger retries rather than lose the record. With
 * no sink set it acknowledges every batch and forwards nothing (docs/forward.md). Its setup
 * (`forwardSetup` of `providers/aliyun/setup.ts`) runs at the first invocation.
 */
export function createHandler(deps: AliyunForwardDeps = {}): FcForwardHandler {
  const { env = process.env, log = jsonLine } = deps;
  const setup = lazySetup(() => forwardSetup(env, deps, { retry: deps.retry, log }));

  return fcHandler(async (event, context) => {
    const forwarderFor = await setup();
    const bytes = eventBytes(event);
    if (!bytes) throw new TypeError('not a Tablestore trigger event: Function Compute passes its CBOR as bytes');
    const rows = await decodeTriggerEvent(bytes);
    const summary: ForwardSummary = { delivered: 0, deadLettered: 0, skipped: 0 };
    if (!forwarderFor) {
      log({ level: 'info', msg: 'forward_batch', records: rows.length, skipped: 'no sink set (DINGTALK_FORWARD_URL)' });
      return { ...summary, skipped: rows.length };
    }
    const forwarder = forwarderFor(roleKeysOf(context, 'write the dead-letter table'));
    for (const row of rows) if ('skipped' in row) log({ level: 'warn', msg: 'forward_batch', records: 1, skipped: row.skipped });
    const records = rows.flatMap((row) => ('record' in row ? [row.record] : []));
    const { outcomes, failed } = await forwarder.forwardBatch(records);
    if (failed.length > 0) throw new Error(`${failed.length} record(s) could be neither delivered nor dead-lettered; the trigger retries the batch`);
    for (const outcome of outcomes) {
      if (outcome === 'delivered') summary.delivered += 1;
      else if (outcome === 'dead_lettered') summary.deadLettered += 1;
      else summary.skipped += 1;
    }
    summary.skipped += rows.length - records.length;
    return summary;
  });
}

/** The Function Compute entry, `handlers/aliyun/forward.handler`, configured from `process.env` at the first invocation. */
export const handler = createHandler();
