import { ConfigError } from '../../core/errors';
import { loadSettings, type Environment, type Settings } from '../../core/settings';
import type { AwsJsonClient } from './aws-json-client';

/** The SecureStrings read under `DINGTALK_SSM_PREFIX`, and the variable each one stands for. */
export const SSM_PARAMETERS = {
  token: 'DINGTALK_TOKEN',
  'aes-key': 'DINGTALK_AES_KEY',
  'owner-key': 'DINGTALK_OWNER_KEY',
} as const;

/** The part of SSM's `GetParameters` answer read here. */
interface GetParametersAnswer {
  Parameters?: Array<{ Name?: string; Value?: string }>;
  InvalidParameters?: string[];
}

/**
 * Reads the DingTalk secrets from the SSM SecureStrings `<prefix>/token`, `<prefix>/aes-key` and
 * `<prefix>/owner-key` in one decrypting `GetParameters` call; anything else (such as
 * `DINGTALK_MAX_SKEW_SECONDS`) still comes from `env`. Call it once per container: it costs a
 * round trip to SSM.
 * @throws ConfigError naming the parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function loadSsmSettings(prefix: string, env: Environment, client: AwsJsonClient): Promise<Settings> {
  const base = prefix.trim().replace(/\/+$/, '');
  const path = (name: string) => `${base}/${name}`;
  const { Parameters = [], InvalidParameters = [] } = await client.call<GetParametersAnswer>('GetParameters', {
    Names: Object.keys(SSM_PARAMETERS).map(path),
    WithDecryption: true,
  });
  if (InvalidParameters.length > 0) {
    throw new ConfigError('DINGTALK_SSM_PREFIX', `SSM has no parameter ${InvalidParameters.sort().join(', ')}`);
  }
  const values = new Map(Parameters.map((parameter) => [parameter.Name, parameter.Value]));
  const fromSsm = Object.fromEntries(Object.entries(SSM_PARAMETERS).map(([name, variable]) => [variable, values.get(path(name))]));
  try {
    return loadSettings({ ...env, ...fromSsm });
  } catch (error) {
    const name = error instanceof ConfigError && Object.entries(SSM_PARAMETERS).find(([, variable]) => variable === error.variable)?.[0];
    // "DINGTALK_AES_KEY: must be …" becomes "/prefix/aes-key: must be …": the parameter is what to fix.
    throw name ? new ConfigError(path(name), (error as ConfigError).message.slice((error as ConfigError).variable.length + 2)) : error;
  }
}
