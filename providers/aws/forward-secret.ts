import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../../core/errors';
import type { Environment } from '../../core/environment';

/** The SecureString under `DINGTALK_SSM_PREFIX` holding the webhook secret on a deployed stage. */
export const FORWARD_SECRET_PARAMETER = 'forward-secret';

/**
 * The webhook secret: `DINGTALK_FORWARD_SECRET`, or on a deployed stage (`DINGTALK_SSM_PREFIX` set)
 * the SecureString `<prefix>/forward-secret`, read only when a webhook is configured.
 * @throws ConfigError naming the parameter when SSM has none; SSM's other errors as they are.
 */
export async function forwardSecret(env: Environment, ssm: () => SSMClient): Promise<string | undefined> {
  const prefix = env.DINGTALK_SSM_PREFIX?.trim().replace(/\/+$/, '');
  if (env.DINGTALK_FORWARD_SECRET?.trim() || !env.DINGTALK_FORWARD_URL?.trim() || !prefix) return env.DINGTALK_FORWARD_SECRET;
  const name = `${prefix}/${FORWARD_SECRET_PARAMETER}`;
  const { Parameters = [] } = await ssm().send(new GetParametersCommand({ Names: [name], WithDecryption: true }));
  const value = Parameters[0]?.Value;
  if (!value) throw new ConfigError(name, 'is not in SSM, and DINGTALK_FORWARD_URL needs it (a SecureString: whsec_ + base64; make one with: dingtalk-callback keygen)');
  return value;
}
