import type { Environment } from '../../core/environment';
import { lazySetup } from '../../core/lazy-setup';
import { leaseDeadline, runLease } from '../../core/stream-lease';
import type { RelaySummary } from '../../core/stream-relay';
import { streamSetup, type AwsStreamClients } from '../../providers/aws/setup';

/** The part of Lambda's context the stream handler reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** What a container's stream handler is built from; tests inject their own. */
export interface AwsStreamDeps extends AwsStreamClients {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Where the relay's JSON lines go; default stdout. */
  log?: (entry: object) => void;
}

/**
 * Builds the Lambda handler of the scheduled `stream` function: each invocation holds a DingTalk
 * Stream connection for its lease (`DINGTALK_STREAM_LEASE_SECONDS`, stopped 30 s before Lambda's
 * own limit whatever the lease), storing each event before it acks it, then stops taking frames,
 * acks what it holds and closes (docs/stream.md). Its setup (`streamSetup` of
 * `providers/aws/setup.ts`) runs at the first invocation and is kept; a failed setup, or DingTalk
 * refusing the credentials, fails the invocation.
 */
export function createHandler(deps: AwsStreamDeps = {}): (event: unknown, context: LambdaContext) => Promise<RelaySummary> {
  const { env = process.env, log } = deps;
  const setup = lazySetup(() => streamSetup(env, deps));
  return async (_event, context) => {
    const started = Date.now();
    const run = await setup();
    return runLease(run, leaseDeadline(started, run.leaseMs, context.getRemainingTimeInMillis()), log);
  };
}

/** The Lambda entry point of `serverless.aws.yml`. */
export const handler = createHandler();
