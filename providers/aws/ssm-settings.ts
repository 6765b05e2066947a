import { optional, type Environment } from '../../core/environment';
import { ConfigError } from '../../core/errors';
import { loadRecoverSettings, type RecoverSettings } from '../../core/recover';
import { loadSettings, type Settings } from '../../core/settings';
import { loadStreamSettings, type StreamSettings } from '../../core/stream-settings';
import type { AwsJsonClient } from './aws-json-client';

/** The SecureStrings the callback reads under `DINGTALK_SSM_PREFIX`, and the variable each one stands for. */
export const SSM_PARAMETERS = {
  token: 'DINGTALK_TOKEN',
  'aes-key': 'DINGTALK_AES_KEY',
  'owner-key': 'DINGTALK_OWNER_KEY',
} as const;

/** The SecureStrings `recover` reads for an internal app (docs/recover.md). */
export const RECOVER_SSM_PARAMETERS = {
  'app-key': 'DINGTALK_APP_KEY',
  'app-secret': 'DINGTALK_APP_SECRET',
  'owner-key': 'DINGTALK_OWNER_KEY',
} as const;

/** What `recover` reads for an ISV suite, whose key and tags are plain settings in the environment. */
export const SUITE_SSM_PARAMETERS = { 'suite-secret': 'DINGTALK_SUITE_SECRET' } as const;

/** The part of SSM's `GetParameters` answer read here (a name it lacks is in `InvalidParameters`, and so not among these). */
interface GetParametersAnswer {
  Parameters?: Array<{ Name?: string; Value?: string }>;
}

/**
 * Reads the DingTalk secrets from the SSM SecureStrings `<prefix>/token`, `<prefix>/aes-key` and
 * `<prefix>/owner-key` in one decrypting `GetParameters` call; anything else (such as
 * `DINGTALK_MAX_SKEW_SECONDS`) still comes from `env`. Call it once per container: it costs a
 * round trip to SSM.
 * @throws ConfigError naming every parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function loadSsmSettings(prefix: string, env: Environment, client: AwsJsonClient): Promise<Settings> {
  return fromSsm(prefix, SSM_PARAMETERS, env, client, loadSettings);
}

/**
 * The recover settings with the app's key, secret and owner keys (or, when `DINGTALK_SUITE_KEY` is
 * set, the suite's secret) read from SSM under `prefix` in one call, the rest from `env`.
 * @throws ConfigError naming the parameter that is missing or invalid.
 */
export async function loadSsmRecoverSettings(prefix: string, env: Environment, client: AwsJsonClient): Promise<RecoverSettings> {
  return fromSsm(prefix, env.DINGTALK_SUITE_KEY?.trim() ? SUITE_SSM_PARAMETERS : RECOVER_SSM_PARAMETERS, env, client, loadRecoverSettings);
}

/**
 * The Stream settings with the app's key and secret (or the suite's secret) read from SSM under
 * `prefix` in one call, as `recover` reads them; the rest from `env`.
 * @throws ConfigError naming the parameter that is missing or invalid.
 */
export async function loadSsmStreamSettings(prefix: string, env: Environment, client: AwsJsonClient): Promise<StreamSettings> {
  return fromSsm(prefix, env.DINGTALK_SUITE_KEY?.trim() ? SUITE_SSM_PARAMETERS : RECOVER_SSM_PARAMETERS, env, client, (merged) => loadStreamSettings(merged));
}

/** The SecureString under `DINGTALK_SSM_PREFIX` holding the webhook secret on a deployed stage. */
export const FORWARD_SECRET_PARAMETER = 'forward-secret';

/**
 * The webhook secret: `DINGTALK_FORWARD_SECRET`, or on a deployed stage (`DINGTALK_SSM_PREFIX` set)
 * the SecureString `<prefix>/forward-secret`, read only when a webhook is configured (`ssm` is then
 * called for the client).
 * @throws ConfigError naming the parameter when SSM has none; SSM's other errors as they are.
 */
export async function loadForwardSecret(env: Environment, ssm: () => AwsJsonClient): Promise<string | undefined> {
  const prefix = optional(env, 'DINGTALK_SSM_PREFIX');
  if (optional(env, 'DINGTALK_FORWARD_SECRET') || !optional(env, 'DINGTALK_FORWARD_URL') || !prefix) return env.DINGTALK_FORWARD_SECRET;
  const name = parameterPath(prefix, FORWARD_SECRET_PARAMETER);
  const value = (await getParameters(ssm(), [name])).get(name);
  if (!value) throw new ConfigError(name, 'is not in SSM, and DINGTALK_FORWARD_URL needs it (a SecureString: whsec_ + base64; make one with: dingtalk-callback keygen)');
  return value;
}

/** `<prefix>/<name>`, however many slashes the prefix ends with. */
function parameterPath(prefix: string, name: string): string {
  return `${prefix.trim().replace(/\/+$/, '')}/${name}`;
}

/** The one SSM read of the functions: `names` decrypted in one `GetParameters` call, by name; a name SSM lacks is absent. */
async function getParameters(client: AwsJsonClient, names: string[]): Promise<Map<string, string | undefined>> {
  const { Parameters = [] } = await client.call<GetParametersAnswer>('GetParameters', { Names: names, WithDecryption: true });
  return new Map(Parameters.flatMap(({ Name, Value }) => (Name === undefined ? [] : [[Name, Value]])));
}

async function fromSsm<T>(prefix: string, parameters: Record<string, string>, env: Environment, client: AwsJsonClient, load: (env: Environment) => T): Promise<T> {
  const path = (name: string) => parameterPath(prefix, name);
  const names = Object.keys(parameters).map(path);
  const values = await getParameters(client, names);
  const missing = names.filter((name) => !values.has(name));
  if (missing.length > 0) throw new ConfigError('DINGTALK_SSM_PREFIX', `SSM has no parameter ${missing.sort().join(', ')}`);
  const read = Object.fromEntries(Object.entries(parameters).map(([name, variable]) => [variable, values.get(path(name))]));
  try {
    return load({ ...env, ...read });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // "DINGTALK_AES_KEY: must be …" becomes "/prefix/aes-key: must be …": the parameter is what to fix.
    const paths = new Map<string, string>(Object.entries(parameters).map(([name, variable]) => [variable, path(name)]));
    throw new ConfigError(error.problems.map(({ variable, problem }) => ({ variable: paths.get(variable) ?? variable, problem })));
  }
}

/**
 * The DingTalk settings of a function: from SSM under `DINGTALK_SSM_PREFIX` when that is set, as
 * deployed (`ssm` is then called for the client), else from the environment (`npm start`, tests).
 * @throws ConfigError naming every variable or parameter that is missing or invalid.
 */
export async function loadDingTalkSettings(env: Environment, ssm: () => AwsJsonClient): Promise<Settings> {
  const prefix = optional(env, 'DINGTALK_SSM_PREFIX');
  return prefix ? loadSsmSettings(prefix, env, ssm()) : loadSettings(env);
}
