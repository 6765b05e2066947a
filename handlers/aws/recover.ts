import type { Environment } from '../../core/environment';
import { lazySetup } from '../../core/lazy-setup';
import type { RecoverSummary } from '../../core/recover';
import { recoverLine, runRecover } from '../../core/recover-run';
import { recoverSetup, type AwsRecoverClients } from '../../providers/aws/setup';

/** What a container's recover handler is built from; tests inject their own. */
export interface AwsRecoverDeps extends AwsRecoverClients {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Where the run's one JSON line goes; default stdout. */
  log?: (line: string) => void;
}

/**
 * Builds the Lambda handler of the scheduled `recover` function: one recover pass per invocation
 * (docs/recover.md). Its setup (`recoverSetup` of `providers/aws/setup.ts`: settings, clients) runs
 * at the first invocation and is kept, with the access token, for the container's life, so the
 * token is fetched once in its lifetime; a failed setup is thrown and tried again on the next
 * invocation. A failed pass is thrown too, after its log line, so Lambda counts an error (and
 * CloudWatch can alarm on it).
 */
export function createHandler(deps: AwsRecoverDeps = {}): (event?: unknown) => Promise<RecoverSummary> {
  const { env = process.env, log = (line: string) => process.stdout.write(`${line}\n`) } = deps;
  const setup = lazySetup(() => recoverSetup(env, deps));
  return async () => {
    const outcome = await runRecover(await setup());
    log(recoverLine(outcome));
    if ('error' in outcome) throw outcome.error;
    return outcome.summary;
  };
}

/** The Lambda entry point of `serverless.aws.yml`. */
export const handler = createHandler();
