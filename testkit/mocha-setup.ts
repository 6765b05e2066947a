import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_CACHE_ENV, SCHEMA_CACHE_ENV } from './serverless';

// The AWS SDK warns on Node.js 20 of a support change to come; in the test output that is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Where every `serverless` a test starts keeps the validator it compiles from its configuration's
 * schema (~3.5 s of CPU each time otherwise): beside tsc's and ESLint's caches, kept from run to run.
 * Serverless names each validator by a hash of its schema, so a changed plugin gets a new one.
 */
const SCHEMA_CACHE = join(__dirname, '..', 'node_modules', '.cache', 'serverless');

let cache: string | undefined;

/** Before a mocha run: a folder for the run where packagings are kept (see testkit/serverless.ts). */
export async function mochaGlobalSetup(): Promise<void> {
  process.env[SCHEMA_CACHE_ENV] ??= SCHEMA_CACHE;
  if (process.env[PACKAGE_CACHE_ENV]) return;
  cache = await mkdtemp(join(tmpdir(), 'sls-packages-'));
  process.env[PACKAGE_CACHE_ENV] = cache;
}

/** After it: the folder goes. */
export async function mochaGlobalTeardown(): Promise<void> {
  if (!cache) return;
  delete process.env[PACKAGE_CACHE_ENV];
  await rm(cache, { recursive: true, force: true });
}
