import { recoverLine, runRecover, type RecoverRun } from '../../core/recover-run';
import { loadRecoverSettings } from '../../core/recover';
import { readAll, required, type Environment } from '../../core/environment';
import { lazySetup } from '../../core/lazy-setup';
import { tablestoreLocation } from '../../providers/aliyun/settings';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreInbox } from '../../providers/aliyun/tablestore-inbox';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import type { FcContext } from './callback';
import { keptPerRoleKeys } from '../../providers/aliyun/role-keys';

/** A Function Compute event handler of the timer trigger; it answers the pass's summary. */
export type FcRecoverHandler = (event: unknown, context: FcContext, callback: (error: Error | null, summary?: object) => void) => void;

/** What the recover handler is built from; tests inject their own. */
export interface AliyunRecoverDeps {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Where the run's one JSON line goes; default stdout. */
  log?: (line: string) => void;
}

/**
 * Builds the handler of the `recover` function, run by its timer trigger: one recover pass per
 * invocation (docs/recover.md), with the settings of the environment (`DINGTALK_APP_KEY`,
 * `DINGTALK_APP_SECRET` or the suite's, `EVENTS_TABLE`, `RECOVER_INBOX_TABLE`, `TABLESTORE_*`),
 * read at the first invocation (a failure fails that invocation and is read again on the next).
 * The Tablestore clients follow each invocation's credentials; the access token is kept for the
 * instance's life. A failed pass logs its line and fails the invocation.
 */
export function createHandler(deps: AliyunRecoverDeps = {}): FcRecoverHandler {
  const { env = process.env, log = (line) => process.stdout.write(`${line}\n`) } = deps;
  const setup = lazySetup(() => {
    const [settings, { tableName, endpoint, instance }, inboxTable] = readAll(() => loadRecoverSettings(env), () => tablestoreLocation(env), () => required(env, 'RECOVER_INBOX_TABLE'));
    return keptPerRoleKeys(({ accessKeyId, accessKeySecret, securityToken }, previous: RecoverRun | undefined): RecoverRun => {
      const client = createTablestoreClient({ endpoint, instance, accessKeyId, secretAccessKey: accessKeySecret, securityToken });
      // The token outlives the keys: keep it.
      return { settings, store: new TablestoreEventStore({ tableName, client }), inbox: new TablestoreInbox({ tableName: inboxTable, client }), token: previous?.token };
    });
  });

  const run = async (context: FcContext) => {
    const runFor = await setup();
    if (!context.credentials) throw new Error('Function Compute passed no credentials: the service needs a RAM role allowed to use Tablestore');
    const outcome = await runRecover(runFor(context.credentials));
    log(recoverLine(outcome));
    if ('error' in outcome) throw outcome.error;
    return outcome.summary;
  };

  return (_event, context, callback) => {
    run(context).then(
      (summary) => callback(null, summary),
      (error: Error) => callback(error),
    );
  };
}

/** The Function Compute entry, `handlers/aliyun/recover.handler`, configured from `process.env`. */
export const handler = createHandler();
