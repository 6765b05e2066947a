import type { Environment } from '../../core/environment';

/**
 * The fixed development credentials `npm start` and the CLI fall back to when none of these three
 * is set, so the local stack works with nothing configured. Never deploy them.
 */
export const DEV_CREDENTIALS = {
  DINGTALK_TOKEN: 'dingtalk-callback-dev-token',
  DINGTALK_AES_KEY: 'ZGluZ3RhbGstY2FsbGJhY2stZGV2ZWxvcG1lbnQta2V',
  DINGTALK_OWNER_KEY: 'dingdevcorp0000000000',
} as const;

/** `env` itself when it sets any of the three credentials, else `env` with {@link DEV_CREDENTIALS} filled in. */
export function withDevCredentials(env: Environment): { env: Environment; usingDev: boolean } {
  const configured = Object.keys(DEV_CREDENTIALS).some((name) => env[name]?.trim());
  return configured ? { env, usingDev: false } : { env: { ...env, ...DEV_CREDENTIALS }, usingDev: true };
}

/**
 * The webhook secret `npm start` and the CLI sign deliveries with when `DINGTALK_FORWARD_URL` is set
 * and `DINGTALK_FORWARD_SECRET` is not. Never deploy it.
 */
export const DEV_FORWARD_SECRET = `whsec_${Buffer.from('dingtalk-callback-dev-webhook-secret-key').toString('base64')}`;

/** `env` with {@link DEV_FORWARD_SECRET} filled in when a webhook URL is set without a secret. */
export function withDevForwardSecret(env: Environment): { env: Environment; usingDev: boolean } {
  const needed = Boolean(env.DINGTALK_FORWARD_URL?.trim()) && !env.DINGTALK_FORWARD_SECRET?.trim();
  return needed ? { env: { ...env, DINGTALK_FORWARD_SECRET: DEV_FORWARD_SECRET }, usingDev: true } : { env, usingDev: false };
}
