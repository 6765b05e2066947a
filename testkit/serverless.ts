import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SAMPLE_ENV } from './fixtures';

const ROOT = join(__dirname, '..');

/** The project's own Serverless Framework v3 CLI. */
export const SERVERLESS_BIN = join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');

/**
 * The variable naming where `serverless` keeps the configuration validator it compiles from its
 * schema (~2 s of CPU), `~/.serverless/artifacts` otherwise. Each run of `serverless` here has an
 * empty HOME of its own, so testkit/mocha-setup.ts points this at one folder for the test run.
 */
export const SCHEMA_CACHE_ENV = 'SLS_SCHEMA_CACHE_BASE_DIR';

/**
 * What every `serverless` (and `npm start`) run here has: no telemetry, notifications or npm update
 * check, and the run's schema cache.
 */
function quietEnv(): Record<string, string> {
  const schemaCache = process.env[SCHEMA_CACHE_ENV];
  return { SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', npm_config_update_notifier: 'false', ...(schemaCache ? { [SCHEMA_CACHE_ENV]: schemaCache } : {}) };
}

/**
 * The environment to run `serverless` in: quiet, and nothing that could reach an AWS account (no
 * AWS_* variable, `home` as HOME so no ~/.aws either).
 */
export function offlineServerlessEnv(home: string): Record<string, string> {
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => !entry[0].startsWith('AWS_') && entry[1] !== undefined));
  return { ...env, HOME: home, ...quietEnv() };
}

/** How to run {@link packageService} and {@link deployService}. */
export interface PackageOptions {
  /** More arguments for `serverless`, for example `['--stage', 'test']`. */
  args?: string[];
  /** The whole environment of `serverless` besides `PATH` and a fresh `HOME`: nothing else of the caller's is passed on. */
  env?: Record<string, string>;
  /** Files to put in that `HOME` (name → content), for example a cloud's credentials file. */
  home?: Record<string, string>;
  /** Options for node itself, before the CLI, for example `['--require', preload]`. */
  nodeArgs?: string[];
  /** Files to put in the service folder (name → content) instead of the repository's, for example a changed config. */
  files?: Record<string, string>;
}

/** A service packaged by {@link packageService} (or deployed by {@link deployService}). */
export interface PackagedService {
  /** The temporary service folder: symlinks to the repository, and `.serverless/` with what was made. */
  dir: string;
  /** The callback's deployment zip: `.serverless/<service>.zip`, or `callback.zip` when each function is packaged individually. */
  zip: string;
  /** Every zip made, by name without `.zip` (`callback`, `forward`, or the service's). */
  zips: Record<string, string>;
  /** What `serverless` printed, stdout then stderr. */
  output: string;
  /** Parses a JSON file of `.serverless/`, such as the compiled template. */
  json<T>(name: string): Promise<T>;
  /** Deletes the temporary folder (its symlinks, not what they point to). */
  remove(): Promise<void>;
}

/**
 * The variable naming a folder where {@link packageService} keeps what it made for the rest of a
 * test run, by its arguments: the package tests and the bench test (a process of its own) then
 * share one packaging per configuration. testkit/mocha-setup.ts sets it for each mocha run.
 */
export const PACKAGE_CACHE_ENV = 'DINGTALK_PACKAGE_CACHE';

/**
 * How the tests package `serverless.aws.yml` (and the bench, so that a test run packages it once):
 * a named stage and region, to see both honoured.
 */
export const AWS_TEST_PACKAGE: PackageOptions = { args: ['--stage', 'test', '--region', 'eu-central-1'] };

/** The Tablestore settings the tests and the bench package `serverless.aliyun.yml` with; a bundle they invoke gets the local server's. */
export const ALIYUN_TEST_TABLESTORE = { EVENTS_TABLE: 'events', TABLESTORE_INSTANCE: 'test-instance', TABLESTORE_ENDPOINT: 'https://test-instance.cn-hangzhou.ots.aliyuncs.com' };

/** The recover function's DingTalk app in that packaging, as the deploying shell would hold it. */
export const ALIYUN_TEST_RECOVER_APP = { DINGTALK_APP_KEY: 'dingrecoverappkey', DINGTALK_APP_SECRET: 'recover-app-secret' };

/**
 * How the tests and the bench package `serverless.aliyun.yml` (so that a test run packages it
 * once): the sample DingTalk settings, {@link ALIYUN_TEST_TABLESTORE} and
 * {@link ALIYUN_TEST_RECOVER_APP}, dummy account keys.
 */
export const ALIYUN_TEST_PACKAGE: PackageOptions = { env: { ...SAMPLE_ENV, ...ALIYUN_TEST_TABLESTORE, ...ALIYUN_TEST_RECOVER_APP }, home: aliyunCredentialsFile() };

/** This process's packagings under way or done, by cache key. */
const packagings = new Map<string, Promise<PackagedService>>();

/**
 * Runs the real `serverless package --config <config>` offline, in a temporary copy of the service
 * made of symlinks (so the repository's own `.serverless/` and `.esbuild/` are never touched), with
 * that folder as `HOME` so no real account's configuration is seen. Within a test run (see
 * {@link PACKAGE_CACHE_ENV}) the same arguments answer what was made the first time (or how it
 * failed), in every process of the run, and `remove()` leaves it for the end of the run.
 */
export function packageService(config: string, options: PackageOptions = {}): Promise<PackagedService> {
  const cache = process.env[PACKAGE_CACHE_ENV];
  if (!cache) return runService('package', config, options);
  const key = createHash('sha256').update(JSON.stringify([config, options])).digest('hex').slice(0, 16);
  let packaging = packagings.get(key);
  if (!packaging) {
    packaging = cachedPackage(join(cache, key), config, options);
    packagings.set(key, packaging);
  }
  return packaging;
}

/**
 * The packaging kept in `dir`, made there first when no other process of this run made it or is
 * making it: test files run in parallel processes, so the first to create `<dir>.lock` packages and
 * the others wait for `<dir>.json`, which holds what it printed or how it failed.
 */
async function cachedPackage(dir: string, config: string, options: PackageOptions): Promise<PackagedService> {
  const result = `${dir}.json`;
  const kept = async () => {};
  const packager = await mkdir(`${dir}.lock`).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return false;
      throw error;
    },
  );
  if (!packager) {
    const { output, failed } = JSON.parse(await fileWhenWritten(result)) as { output: string; failed?: string };
    if (failed) throw Object.assign(new Error(failed), { output });
    return packagedIn(dir, output, kept);
  }
  try {
    const service = await runService('package', config, options, dir);
    await writeAtomically(result, JSON.stringify({ output: service.output }));
    return { ...service, remove: kept };
  } catch (error) {
    const { message, output = '' } = error as Error & { output?: string };
    await writeAtomically(result, JSON.stringify({ output, failed: message }));
    throw error;
  }
}

/** Writes `path` whole or not at all: a reader waiting for it never sees half of it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.partial`, text);
  await rename(`${path}.partial`, path);
}

/** The text of `path`, once another process has written it (see {@link writeAtomically}). */
async function fileWhenWritten(path: string): Promise<string> {
  const name = basename(path);
  let watcher: FSWatcher | undefined;
  try {
    // Watching first, then looking: a file renamed into place in between is seen either way.
    await new Promise<void>((resolve, reject) => {
      watcher = watch(dirname(path), (_, filename) => filename === name && existsSync(path) && resolve());
      watcher.on('error', reject);
      if (existsSync(path)) resolve();
    });
    return await readFile(path, 'utf8');
  } finally {
    watcher?.close();
  }
}

/**
 * Runs the real `serverless deploy --config <config>` the same way as {@link packageService}; the
 * caller routes its network (see `testkit/aliyun-cloud.ts`). Rejects with the output when it fails.
 */
export function deployService(config: string, options: PackageOptions = {}): Promise<PackagedService> {
  return runService('deploy', config, options);
}

/** A run of `serverless` that failed as it had to: what it printed, and what it had made by then. */
export type FailedRun = Pick<PackagedService, 'dir' | 'output' | 'json' | 'remove'>;

/**
 * Runs the real `serverless deploy --config <config>` as {@link deployService} does, for a deploy
 * that must fail: resolves with what it printed and what it had packaged before it failed (its
 * `.serverless/`, until `remove()`); rejects when it did not fail.
 */
export async function refusedDeploy(config: string, options: PackageOptions = {}): Promise<FailedRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sls-deploy-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const output = await runIn(dir, 'deploy', config, options).then(
    async (printed) => {
      await remove();
      throw new Error(`serverless deploy did not fail:\n${printed}`);
    },
    (error: Error & { output?: string }) => error.output ?? error.message,
  );
  return { dir, output, json: jsonIn(dir), remove };
}

/**
 * Runs the real `serverless remove --config <config>` the same way as {@link deployService}, in a
 * folder of its own that it deletes afterwards. Resolves with what it printed; rejects with the
 * output when it fails.
 */
export async function removeService(config: string, options: PackageOptions = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sls-remove-'));
  try {
    return await runIn(dir, 'remove', config, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runService(command: 'package' | 'deploy', config: string, options: PackageOptions, into?: string): Promise<PackagedService> {
  const dir = into ?? (await mkdtemp(join(tmpdir(), `sls-${command}-`)));
  if (into) await mkdir(into, { recursive: true });
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    return await packagedIn(dir, await runIn(dir, command, config, options), remove);
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * Runs `serverless <command>` in `dir`, made a copy of the service of symlinks; resolves with its
 * output, stdout then stderr. Its temporary folder is `dir/.tmp`: what a run leaves there goes with
 * `dir`, and a test can see it (the AWS packaging must leave nothing: deploy/aws/esbuild-zip-folders.cjs
 * deletes the folders serverless-esbuild zips through).
 */
async function runIn(dir: string, command: string, config: string, { args = [], env = {}, home = {}, nodeArgs = [], files = {} }: PackageOptions): Promise<string> {
  await linkService(dir, Object.keys(files));
  for (const [name, content] of Object.entries({ ...home, ...files })) await writeFile(join(dir, name), content);
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [...nodeArgs, SERVERLESS_BIN, command, '--config', config, ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      TMPDIR: await runTemporaryFolder(dir),
      ...quietEnv(),
      ...env,
    },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw Object.assign(new Error(`serverless ${command} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`), { output: `${error.stdout ?? ''}${error.stderr ?? ''}` });
  });
  return stdout + stderr;
}

/**
 * `dir/.tmp`, for a run's TMPDIR, with tsx's cache of compiled TypeScript linked in from the system
 * temporary folder (where tsx keeps it as `tsx-<uid>`), so that the plugins written in TypeScript
 * are not compiled again in every run.
 */
async function runTemporaryFolder(dir: string): Promise<string> {
  const folder = join(dir, '.tmp');
  const tsxCache = `tsx-${process.geteuid?.() ?? userInfo().username}`;
  await mkdir(join(tmpdir(), tsxCache), { recursive: true });
  await mkdir(folder, { recursive: true });
  await symlink(join(tmpdir(), tsxCache), join(folder, tsxCache));
  return folder;
}

/**
 * Makes `dir` a copy of the service made of symlinks to the repository's files and folders (all but
 * its dot files, and but those named in `except`): `serverless` run there writes its `.serverless/`
 * and `.esbuild/` in `dir`, so runs side by side, in parallel test files, never share them.
 */
export async function linkService(dir: string, except: string[] = []): Promise<void> {
  for (const name of await readdir(ROOT)) if (!name.startsWith('.') && !except.includes(name)) await symlink(join(ROOT, name), join(dir, name));
}

/** What `serverless` made in `dir`, with what it printed. */
async function packagedIn(dir: string, output: string, remove = () => rm(dir, { recursive: true, force: true })): Promise<PackagedService> {
  const out = join(dir, '.serverless');
  const zips = Object.fromEntries((await readdir(out)).filter((name) => name.endsWith('.zip')).map((name) => [name.slice(0, -'.zip'.length), join(out, name)]));
  const zip = zips.callback ?? Object.values(zips)[0];
  if (!zip) throw new Error(`serverless made no zip:\n${output}`);
  return { dir, zip, zips, output, json: jsonIn(dir), remove };
}

/** Parses a JSON file of `dir/.serverless/`. */
function jsonIn(dir: string): PackagedService['json'] {
  return async <T>(name: string) => JSON.parse(await readFile(join(dir, '.serverless', name), 'utf8')) as T;
}

/**
 * The `~/.aliyun_credentials` ini file serverless-aliyun-function-compute reads even to package,
 * for {@link PackageOptions.home}: dummy keys unless given.
 */
export function aliyunCredentialsFile(keys = { accessKeyId: 'LTAI-dummy', secretAccessKey: 'dummy-secret' }): Record<string, string> {
  return { '.aliyun_credentials': `[default]\naliyun_account_id = 1234567890123456\naliyun_access_key_id = ${keys.accessKeyId}\naliyun_access_key_secret = ${keys.secretAccessKey}\n` };
}
