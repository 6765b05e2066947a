import { randomBytes, randomInt } from 'node:crypto';
import { WEBHOOK_SECRET_PREFIX } from '../core/webhook';
import type { Command } from './command';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters drawn uniformly from A–Z a–z 0–9 with the system's secure random source. */
export function randomAlphanumeric(length: number): string {
  return Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

export const keygen: Command = {
  name: 'keygen',
  summary: 'print a fresh token, EncodingAESKey and webhook secret',
  help: `Usage: dingtalk-callback keygen

Prints a fresh signing token, a 43-character EncodingAESKey and a webhook secret as environment
assignments, ready to paste into the DingTalk developer console (Token, aes_key) and the deploy
environment:

  DINGTALK_TOKEN=…
  DINGTALK_AES_KEY=…
  DINGTALK_FORWARD_SECRET=whsec_…

The first two use only A-Z a-z 0-9, which the DingTalk console accepts. The third signs the
deliveries to DINGTALK_FORWARD_URL (docs/forward.md); give it to the receiving service too.
Set DINGTALK_OWNER_KEY yourself: your corpId (enterprise callbacks), appKey (an internal app's
events) or suiteKey (an ISV suite).`,
  options: {},
  async run() {
    process.stdout.write(`DINGTALK_TOKEN=${randomAlphanumeric(32)}\nDINGTALK_AES_KEY=${randomAlphanumeric(43)}\nDINGTALK_FORWARD_SECRET=${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}\n`);
    return 0;
  },
};
