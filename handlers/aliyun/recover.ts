import { recoverLine, runRecover, type RecoverRun } from '../../core/recover-run';
import { loadRecoverSettings } from '../../core/recover';
import { required, type Environment } from '../../core/environment';
import { tablestoreLocation } from '../../providers/aliyun/settings';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreInbox } from '../../providers/aliyun/tablestore-inbox';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import type { FcContext } from './callback';
import { keptPerRoleKeys } from '../../providers/aliyun/role-keys';

/** A Function Compute event handler of the timer trigger; it answers the pass's summary. */
export type FcRecoverHandler = (event: unknown, context: FcContext, callback: (error: Error | null, summary?: object) => void) => void;

export interface AliyunRecoverOptions {
  /** Where the run's one JSON line goes; default stdout. */
  log?: (line: string) => void;
}

/**
 * Builds the handler of the `recover` function, run by its timer trigger: one recover pass per
 * invocation (docs/recover.md), with the settings of the environment (`DINGTALK_APP_KEY`,
 * `DINGTALK_APP_SECRET` or the suite's, `EVENTS_TABLE`, `RECOVER_INBOX_TABLE`, `TABLESTORE_*`),
 * validated now. The Tablestore clients follow each invocation's credentials; the access token is
 * kept for the instance's life. A failed pass logs its line and fails the invocation.
 * @throws ConfigError naming the first variable that is missing or invalid.
 */
export function createHandler(env: Environment, { log = (line) => process.stdout.write(`${line}\n`) }: AliyunRecoverOptions = {}): FcRecoverHandler {
  const settings = loadRecoverSettings(env);
  const { tableName, endpoint, instance } = tablestoreLocation(env);
  const inboxTable = required(env, 'RECOVER_INBOX_TABLE');

  const runFor = keptPerRoleKeys(({ accessKeyId, accessKeySecret, securityToken }, previous: RecoverRun | undefined): RecoverRun => {
    const client = createTablestoreClient({ endpoint, instance, accessKeyId, secretAccessKey: accessKeySecret, securityToken });
    // The token outlives the keys: keep it.
    return { settings, store: new TablestoreEventStore({ tableName, client }), inbox: new TablestoreInbox({ tableName: inboxTable, client }), token: previous?.token };
  });

  return (_event, context, callback) => {
    if (!context.credentials) {
      callback(new Error('Function Compute passed no credentials: the service needs a RAM role allowed to use Tablestore'));
      return;
    }
    runRecover(runFor(context.credentials)).then(
      (outcome) => {
        log(recoverLine(outcome));
        if ('error' in outcome) callback(outcome.error);
        else callback(null, outcome.summary);
      },
      (error: Error) => callback(error),
    );
  };
}

let configured: FcRecoverHandler | undefined;

/** The Function Compute entry, `handlers/aliyun/recover.handler`; it configures itself from `process.env` at the first invocation. */
export const handler: FcRecoverHandler = (event, context, callback) => {
  try {
    configured ??= createHandler(process.env);
  } catch (error) {
    callback(error as Error);
    return;
  }
  configured(event, context, callback);
};
