import type { CallbackRequest } from '../core/callback';
import { sign, type Secrets } from '../core/crypto';
import { sealPush } from '../core/dingtalk-side';
import { SAMPLE_OWNER, SAMPLE_SETTINGS } from './fixtures';

/** A neutral request carrying `message` sealed as DingTalk would (sample credentials by default). */
export function pushRequest(message: string, secrets: Secrets = SAMPLE_SETTINGS, ownerKey = SAMPLE_OWNER): CallbackRequest {
  const push = sealPush(secrets, message, ownerKey);
  return { method: 'POST', query: { ...push.query }, body: push.body };
}

/** A request whose body is `{"encrypt": encrypt}`, correctly signed with the sample token. */
export function signedRequest(encrypt: string, token = SAMPLE_SETTINGS.token): CallbackRequest {
  const timestamp = String(Date.now());
  const nonce = 'n0nce';
  return { method: 'POST', query: { signature: sign(token, timestamp, nonce, encrypt), timestamp, nonce }, body: JSON.stringify({ encrypt }) };
}
