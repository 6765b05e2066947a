import AdmZip from 'adm-zip';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '..', '..');
/** What `serverless.aliyun.yml` needs from the repository to package. */
const SERVICE_FILES = ['serverless.aliyun.yml', 'package.json', 'tsconfig.json', 'node_modules', 'core', 'handlers', 'providers'];

/** The compiled template serverless-aliyun-function-compute deploys from. */
export interface AliyunTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** The outcome of {@link packageAliyunService}. */
export interface AliyunPackage {
  /** The temporary service directory (its `.serverless/` holds templates and zip); remove it with {@link removePackage}. */
  dir: string;
  /** `.serverless/configuration-template-update.json`. */
  template: AliyunTemplate;
  /** Path of the zip. */
  zip: string;
  /** Output of `sls package`. */
  output: string;
}

/**
 * Runs the real `sls package --config serverless.aliyun.yml`, offline, in a temporary copy of the
 * service (symlinks), with a dummy ini credentials file holding `keys` and only `env` from the
 * caller's environment, so the repository's own `.serverless/` is never touched.
 */
export async function packageAliyunService(env: Record<string, string>, keys = { accessKeyId: 'LTAI-dummy', secretAccessKey: 'dummy-secret' }): Promise<AliyunPackage> {
  const dir = mkdtempSync(join(tmpdir(), 'dingtalk-aliyun-'));
  for (const file of SERVICE_FILES) symlinkSync(join(ROOT, file), join(dir, file));
  const credentials = join(dir, 'aliyun_credentials');
  writeFileSync(credentials, `[default]\naliyun_account_id = 1234567890123456\naliyun_access_key_id = ${keys.accessKeyId}\naliyun_access_key_secret = ${keys.secretAccessKey}\n`);
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js'), 'package', '--config', 'serverless.aliyun.yml'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir, // keeps Serverless' and the provider plugin's config files out of the real home
      CI: 'true', // the provider plugin reports usage to Google Analytics unless it runs in CI
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      ALIYUN_CREDENTIALS_FILE: credentials,
      ...env,
    },
  });
  const template = JSON.parse(readFileSync(join(dir, '.serverless', 'configuration-template-update.json'), 'utf8')) as AliyunTemplate;
  return { dir, template, zip: join(dir, '.serverless', 'dingtalk-callback.zip'), output: stdout + stderr };
}

/** Deletes the temporary service directory of a package (its symlinks, not what they point to). */
export function removePackage(packaged: AliyunPackage): void {
  rmSync(packaged.dir, { recursive: true, force: true });
}

/** What a fresh process running a packaged handler answered. */
export interface FcRun {
  /** The callback's error message, if it got one. */
  error?: string;
  response?: { isBase64Encoded: boolean; statusCode: number; headers: Record<string, string>; body: string };
  /** Wall-clock milliseconds from spawning the process to its answer. */
  elapsedMs: number;
  /** What else the process wrote on stdout (the function's log lines). */
  logs: string[];
}

const RESULT = 'fc-result ';

const RUNNER = `
const { handler } = require(process.argv[1]);
const input = JSON.parse(process.argv[2]);
handler(Buffer.from(input.event), input.context, (error, response) => {
  process.stdout.write('${RESULT}' + JSON.stringify({ error: error ? error.message : undefined, response }) + '\\n', () => process.exit(0));
});`;

/**
 * Extracts `file` (for example `handlers/aliyun.js`) from a packaged zip and invokes its `handler`
 * in a fresh `node` process with only `env`, as Function Compute would: the event as a Buffer of
 * `event`, the context given, the answer through the callback.
 */
export async function runFcBundle(zip: string, file: string, env: Record<string, string>, event: string, context: object): Promise<FcRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dingtalk-fc-'));
  try {
    new AdmZip(zip).extractAllTo(dir, true);
    return await spawnTimed(['-e', RUNNER, join(dir, file), JSON.stringify({ event, context })], env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall-clock milliseconds for a bare `node` to start and print, the baseline for {@link runFcBundle}. */
export async function bareNodeStartMs(): Promise<number> {
  return (await spawnTimed(['-e', `process.stdout.write('${RESULT}{}\\n')`], {})).elapsedMs;
}

function spawnTimed(args: string[], env: Record<string, string>): Promise<FcRun> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolvePromise, reject) => {
    child.stdout.on('data', () => {
      const lines = stdout.split('\n');
      const result = lines.find((line) => line.startsWith(RESULT));
      if (!result) return;
      const answer = JSON.parse(result.slice(RESULT.length)) as Pick<FcRun, 'error' | 'response'>;
      resolvePromise({ ...answer, elapsedMs: performance.now() - started, logs: lines.filter((line) => line !== '' && line !== result) });
    });
    child.on('exit', (code) => reject(new Error(`node exited (${code}) without answering: ${stderr || stdout}`)));
  });
}
