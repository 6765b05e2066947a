import type { Environment } from '../../core/environment';
import { lazySetup } from '../../core/lazy-setup';
import { recoverLine, runRecover } from '../../core/recover-run';
import type { RecoverSummary } from '../../core/recover';
import { fcHandler, roleKeysOf, type FcHandler } from '../../providers/aliyun/function-compute';
import { recoverSetup, type AliyunClients } from '../../providers/aliyun/setup';

/** A Function Compute event handler of the timer trigger; it answers the pass's summary. */
export type FcRecoverHandler = FcHandler<RecoverSummary>;

/** What the recover handler is built from; tests inject their own. */
export interface AliyunRecoverDeps extends AliyunClients {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Where the run's one JSON line goes; default stdout. */
  log?: (line: string) => void;
}

/**
 * Builds the handler of the `recover` function, run by its timer trigger: one recover pass per
 * invocation (docs/recover.md). Its setup (`recoverSetup` of `providers/aliyun/setup.ts`: the app's
 * or suite's settings, `EVENTS_TABLE`, `RECOVER_INBOX_TABLE`, `TABLESTORE_*`) runs at the first
 * invocation (a failure fails that invocation and is tried again on the next). The Tablestore
 * clients follow each invocation's credentials; the access token is kept for the instance's life.
 * A failed pass logs its line and fails the invocation.
 */
export function createHandler(deps: AliyunRecoverDeps = {}): FcRecoverHandler {
  const { env = process.env, log = (line) => process.stdout.write(`${line}\n`) } = deps;
  const setup = lazySetup(() => recoverSetup(env, deps));
  return fcHandler(async (_event, context) => {
    const runFor = await setup();
    const outcome = await runRecover(runFor(roleKeysOf(context, 'use Tablestore')));
    log(recoverLine(outcome));
    if ('error' in outcome) throw outcome.error;
    return outcome.summary;
  });
}

/** The Function Compute entry, `handlers/aliyun/recover.handler`, configured from `process.env`. */
export const handler = createHandler();
