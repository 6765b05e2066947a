import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The project's own Serverless Framework v3 CLI. */
export const SERVERLESS_BIN = join(__dirname, '..', '..', 'node_modules', 'serverless', 'bin', 'serverless.js');

/**
 * The environment to run `serverless` in: no telemetry or notifications, and nothing that could
 * reach an AWS account (no AWS_* variable, an empty HOME so no ~/.aws either).
 */
export async function offlineServerlessEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const home = await mkdtemp(join(tmpdir(), 'sls-home-'));
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => !entry[0].startsWith('AWS_') && entry[1] !== undefined));
  return { ...env, HOME: home, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', ...extra };
}

/** Runs `serverless package` for real into a fresh temporary folder, answering that folder. */
export async function packageService(config: string, options: string[] = []): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'sls-package-'));
  await promisify(execFile)(process.execPath, [SERVERLESS_BIN, 'package', '--config', config, '--package', out, ...options], {
    cwd: join(__dirname, '..', '..'),
    env: await offlineServerlessEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  return out;
}
