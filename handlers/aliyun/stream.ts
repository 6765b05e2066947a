import type { Environment } from '../../core/environment';
import { lazySetup } from '../../core/lazy-setup';
import { leaseDeadline, runLease } from '../../core/stream-lease';
import type { RelaySummary } from '../../core/stream-relay';
import { fcHandler, roleKeysOf, type FcHandler } from '../../providers/aliyun/function-compute';
import { streamSetup, type AliyunClients } from '../../providers/aliyun/setup';

/** What the stream handler is built from; tests inject their own. */
export interface AliyunStreamDeps extends AliyunClients {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Where the relay's JSON lines go; default stdout. */
  log?: (entry: object) => void;
}

/**
 * Builds the handler of the `stream` function, run by its timer trigger: each invocation holds a
 * DingTalk Stream connection for its lease (`DINGTALK_STREAM_LEASE_SECONDS`, stopped 30 s before the
 * function's timeout whatever the lease), storing each event before it acks it, then stops taking
 * frames, acks what it holds and closes (docs/stream.md). Its setup (`streamSetup` of
 * `providers/aliyun/setup.ts`) runs at the first invocation; the writer follows the invocation's
 * role keys. A failed setup, or DingTalk refusing the credentials, fails the invocation.
 */
export function createHandler(deps: AliyunStreamDeps = {}): FcHandler<RelaySummary> {
  const { env = process.env, log } = deps;
  const setup = lazySetup(() => streamSetup(env, deps));
  return fcHandler(async (_event, context) => {
    const started = Date.now();
    const run = (await setup())(roleKeysOf(context, 'use Tablestore'));
    const remaining = (context.function?.timeout ?? Infinity) * 1000;
    return runLease(run, leaseDeadline(started, run.leaseMs, remaining), log);
  });
}

/** The Function Compute entry, `handlers/aliyun/stream.handler`, configured from `process.env`. */
export const handler = createHandler();
