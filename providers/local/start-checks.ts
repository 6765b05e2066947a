import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Level } from 'level';
import { ConfigError } from '../../core/errors';
import type { Sink } from '../../core/forward';
import type { Environment } from '../../core/environment';
import { loadForwardSettings, type ForwardSettings } from '../../core/forward-settings';
import { loadRecoverSettings } from '../../core/recover';
import { loadSettings, type Settings } from '../../core/settings';
import { loadStreamSettings, streamEnabled, type StreamSettings } from '../../core/stream-settings';
import { EVENTBRIDGE, functionClient } from '../aws/aws-json-client';
import { awsSinks } from '../aws/setup';
import { withDevCredentials, withDevForwardSecret } from './dev-credentials';
import { SANDBOX_PORT, withSandbox } from './dingtalk-sandbox';
import { LOCAL_DYNAMODB_PORT } from './local-dynamodb';

// What `npm start` refuses, checked by the local stack's plugin (offline-plugin.ts) and, before
// serverless loads at all, by start.cjs: a refused start then answers in a fraction of a second.

/** Where `npm start` keeps the local store, relative to the service directory. */
export const LOCAL_DATA_DIR = '.data/dynamodb';

/** The port of the inspector page on 127.0.0.1, unless `--inspectorPort` names another. */
export const LOCAL_INSPECTOR_PORT = 3004;

/** The options of `npm start` (serverless-offline's and the plugin's) the checks read. */
export interface StartOptions {
  host?: string;
  httpPort?: string;
  lambdaPort?: string;
  dynamodbPort?: string;
  inspectorPort?: string;
  dingtalkPort?: string;
  dataDir?: string;
}

const OPTION_NAMES: readonly (keyof StartOptions)[] = ['host', 'httpPort', 'lambdaPort', 'dynamodbPort', 'inspectorPort', 'dingtalkPort', 'dataDir'];

/** Why `npm start` does not start: one message naming everything, and a code for serverless. */
export class StartRefusal extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'StartRefusal';
  }
}

/** What `npm start` runs with, from the environment. */
export interface LocalSettings {
  /** The environment with the development credentials, when none is set, and the sandbox filled in. */
  env: Environment;
  /** The development credentials are in use. */
  usingDev: boolean;
  /** `DINGTALK_SANDBOX=true`: the DingTalk sandbox runs, on `sandboxPort`. */
  sandbox: boolean;
  sandboxPort: number;
  /** The sandbox filled in the development app (no app set) and leaves the Stream relay off. */
  sandboxApp: boolean;
  /** `env` with the development webhook secret, when a webhook is set without one. */
  forwardEnv: Environment;
  usingDevSecret: boolean;
  settings: Settings;
  forwardSettings: ForwardSettings;
  /** The sinks as the forward function builds them; none when nothing is forwarded. */
  sinks: Sink[];
  /** An app or suite is set: recover runs on its schedule. */
  recoverConfigured: boolean;
  /** The Stream relay's settings when it runs here. */
  streamSettings?: StreamSettings;
}

/**
 * The settings `npm start` runs with.
 * @throws StartRefusal naming the first bad group of `DINGTALK_*` variables and what else to do.
 */
export function localSettings(processEnv: Environment, options: StartOptions): LocalSettings {
  const { env: devEnv, usingDev } = withDevCredentials(processEnv);
  const sandboxPort = Number(options.dingtalkPort ?? SANDBOX_PORT);
  const { env, sandbox } = withSandbox(devEnv, sandboxPort);
  const { env: forwardEnv, usingDev: usingDevSecret } = withDevForwardSecret(env);
  // Fail now, naming the variable, rather than at the first push.
  const settings = refuseOn('DINGTALK_SETTINGS', () => loadSettings(env), ' (or set none of DINGTALK_TOKEN, DINGTALK_AES_KEY and DINGTALK_OWNER_KEY, to use the development credentials)');
  const forwardSettings = refuseOn('DINGTALK_FORWARD_SETTINGS', () => loadForwardSettings(forwardEnv));
  const sinks = refuseOn('DINGTALK_FORWARD_SETTINGS', () => awsSinks(forwardSettings, () => functionClient(EVENTBRIDGE, forwardEnv)));
  // Without an app or suite, recover does not run here (every run would fail on the missing key).
  const recoverConfigured = ['DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET', 'DINGTALK_SUITE_KEY'].some((name) => env[name]?.trim());
  if (recoverConfigured) refuseOn('DINGTALK_RECOVER_SETTINGS', () => loadRecoverSettings(env), ' (or set none of DINGTALK_APP_KEY, DINGTALK_APP_SECRET and DINGTALK_SUITE_KEY, and recover does not run)');
  const streamSettings = streamEnabled(env)
    ? refuseOn('DINGTALK_STREAM_SETTINGS', () => loadStreamSettings(env), ' (or set DINGTALK_STREAM_ENABLED=false, and the Stream relay does not run)')
    : undefined;
  const sandboxApp = sandbox && devEnv.DINGTALK_STREAM_ENABLED === undefined;
  return { env, usingDev, sandbox, sandboxPort, sandboxApp, forwardEnv, usingDevSecret, settings, forwardSettings, sinks, recoverConfigured, ...(streamSettings && { streamSettings }) };
}

/** `load()`, or a StartRefusal with its ConfigError's message and `hint`. */
function refuseOn<T>(code: string, load: () => T, hint = ''): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new StartRefusal(`${error.message}${hint}`, code);
  }
}

/** The data folder of the local store for these options, in `serviceDir`. */
export function localDataDir(serviceDir: string, options: StartOptions): string {
  return resolve(serviceDir, options.dataDir ?? LOCAL_DATA_DIR);
}

/**
 * Refuses, in one message, when any of the ports `npm start` listens on is taken or another
 * `npm start` holds the data folder: a second `npm start` meets all of these at once.
 * serverless-offline would print its routes before failing on a port in use, then an error object;
 * dynalite would die at the first request on a data folder another npm start holds.
 * @throws StartRefusal
 */
export async function refuseWhatIsInUse(options: StartOptions, dataDir: string, sandbox: boolean): Promise<void> {
  const host = options.host ?? 'localhost';
  const ports = [
    { flag: 'httpPort', port: Number(options.httpPort ?? 3000), host },
    { flag: 'lambdaPort', port: Number(options.lambdaPort ?? 3002), host },
    { flag: 'dynamodbPort', port: Number(options.dynamodbPort ?? LOCAL_DYNAMODB_PORT), host: '127.0.0.1' },
    { flag: 'inspectorPort', port: Number(options.inspectorPort ?? LOCAL_INSPECTOR_PORT), host: '127.0.0.1' },
    ...(sandbox ? [{ flag: 'dingtalkPort', port: Number(options.dingtalkPort ?? SANDBOX_PORT), host: '127.0.0.1' }] : []),
  ];
  const taken: typeof ports = [];
  for (const each of ports) if (!(await isFree(each.port, each.host))) taken.push(each);
  const folderHeld = await dataDirInUse(dataDir);
  const problems: string[] = [];
  if (taken.length === 1) problems.push(`port ${taken[0]!.port} is in use: choose another with --${taken[0]!.flag}`);
  if (taken.length > 1) problems.push(`ports ${listed(taken.map((each) => String(each.port)))} are in use: choose others with ${listed(taken.map((each) => `--${each.flag}`))}`);
  if (folderHeld) problems.push(`the data folder ${dataDir} is in use by another npm start: stop that one, or choose another folder with --dataDir`);
  if (problems.length > 0) throw new StartRefusal(problems.join('; '), folderHeld ? 'DATA_DIR_IN_USE' : 'PORT_IN_USE');
}

/**
 * Everything `npm start` would refuse, checked before serverless loads (start.cjs): the
 * `DINGTALK_*` settings, then the ports and the data folder. Answers the refusal, or undefined.
 */
export async function preflight(argv: readonly string[], env: Environment, serviceDir: string): Promise<StartRefusal | undefined> {
  const options = startOptions(argv);
  try {
    const { sandbox } = localSettings(env, options);
    await refuseWhatIsInUse(options, localDataDir(serviceDir, options), sandbox);
    return undefined;
  } catch (error) {
    if (error instanceof StartRefusal) return error;
    throw error;
  }
}

/** The options the checks read from `npm start`'s arguments, as serverless reads them (`--name value` or `--name=value`). */
export function startOptions(argv: readonly string[]): StartOptions {
  const options: StartOptions = {};
  argv.forEach((arg, index) => {
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const name = OPTION_NAMES.find((each) => flag === `--${each}`);
    const value = inline ?? argv[index + 1];
    if (name && value !== undefined && (inline !== undefined || !value.startsWith('--'))) options[name] = value;
  });
  return options;
}

/**
 * Whether another process (another `npm start`) holds the LevelDB store in `dataDir`: LevelDB
 * locks its folder, and dynalite, started on a held one, fails at the first request instead.
 */
export async function dataDirInUse(dataDir: string): Promise<boolean> {
  if (!existsSync(dataDir)) return false;
  const db = new Level(dataDir, { createIfMissing: false });
  try {
    await db.open();
    await db.close();
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
  }
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Whether a server could listen on `port` of `host` now. */
function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, host, () => probe.close(() => done(true)));
  });
}
