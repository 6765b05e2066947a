import { randomBytes, randomUUID } from 'node:crypto';
import { MAX_BODY_BYTES } from '../core/callback';
import { encrypt } from '../core/crypto';
import { sealPush, type Push } from '../core/dingtalk-side';
import { decodeAesKey, loadSettings, type Settings } from '../core/settings';
import { eventText } from './fixtures';
import { signedWithToken } from './padding-oracle';

/** The DingTalk variables of a function. */
export type DingTalkEnv = Record<'DINGTALK_TOKEN' | 'DINGTALK_AES_KEY' | 'DINGTALK_OWNER_KEY', string>;

/** A request anyone on the internet can send to the endpoint, and the answer it must get. */
export interface HostilePush {
  what: string;
  method: string;
  query: Record<string, string>;
  /** Absent for a method that carries none. */
  body?: string;
  status: number;
  /** The `error` code of the JSON body. */
  error: string;
}

/** Fresh, unguessable credentials, so that finding one of them in a log can only mean a leak. */
export function freshDingTalkEnv(): DingTalkEnv {
  return {
    DINGTALK_TOKEN: `token-${randomBytes(12).toString('hex')}`,
    DINGTALK_AES_KEY: freshAesKey(),
    // Two ownerKeys, as one function serving a corp app and a suite: events are scoped by ownerKey.
    DINGTALK_OWNER_KEY: `ding${randomBytes(8).toString('hex')},suite${randomBytes(8).toString('hex')}`,
  };
}

/**
 * What must never reach a log line or an error body: the secrets of `env`, every ciphertext sent
 * and every decrypted payload. Payloads carry a canary, so a fragment of one is caught too.
 */
export class SecretLedger {
  readonly settings: Settings;
  /** The first ownerKey served. */
  readonly ownerKey: string;
  /** The second ownerKey served. */
  readonly otherOwnerKey: string;
  /** Put into every payload sealed here; it must never show anywhere. */
  readonly canary = `canary-${randomUUID()}`;
  private readonly secrets = new Map<string, string>();

  constructor(readonly env: DingTalkEnv) {
    this.settings = loadSettings(env);
    [this.ownerKey, this.otherOwnerKey] = this.settings.ownerKeys as [string, string];
    this.note('the token', env.DINGTALK_TOKEN);
    this.note('the EncodingAESKey', env.DINGTALK_AES_KEY);
    this.note('the AES key in hex', this.settings.aesKey.toString('hex'));
    this.note('the canary', this.canary);
  }

  /** The event fixture `name` as DingTalk sends it, carrying the canary and `overrides`. */
  message(name: string, overrides: Record<string, unknown> = {}): string {
    return eventText(name, { remark: this.canary, ...overrides });
  }

  /** Seals `message` as DingTalk does (for `ownerKey`, under `secrets`), noting the ciphertext and the message. */
  seal(message: string, ownerKey = this.ownerKey, secrets: { token: string; aesKey: Buffer } = this.settings): Push {
    const push = sealPush(secrets, message, ownerKey);
    this.note('a payload sent', message);
    this.noteCiphertext((JSON.parse(push.body) as { encrypt: string }).encrypt);
    return push;
  }

  /** Notes a ciphertext whole, and its first 24 characters, so a quoted prefix is caught as well. */
  noteCiphertext(ciphertext: string): void {
    this.note('a ciphertext sent', ciphertext);
    this.note('the start of a ciphertext sent', ciphertext.slice(0, 24));
  }

  /** The labels of the secrets found in `output` (never the secrets, so a failed assertion leaks nothing). */
  leaksIn(output: string): string[] {
    return [...new Set([...this.secrets].filter(([text]) => output.includes(text)).map(([, label]) => label))];
  }

  private note(label: string, text: string): void {
    this.secrets.set(text, label);
  }
}

/**
 * Item 1 of the hostile-input issue: every malformed, forged or oversized push, each with the 4xx
 * docs/architecture.md ("HTTP answers") documents. The ledger notes every ciphertext and payload used.
 */
export function hostilePushes(ledger: SecretLedger): HostilePush[] {
  const { settings, ownerKey } = ledger;
  const valid = () => ledger.seal(ledger.message('user_add_org'));
  const post = (what: string, push: Push, status: number, error: string): HostilePush => ({ what, method: 'POST', query: push.query, body: push.body, status, error });
  const withQuery = (push: Push, query: Record<string, string>): Push => ({ ...push, query: { ...push.query, ...query } });
  const without = (name: string): HostilePush => {
    const push = valid();
    const { [name]: _dropped, ...query } = push.query;
    return post(`no ${name}`, { ...push, query }, 400, 'bad_request');
  };
  /** A push of `ciphertext`, correctly signed with the token. */
  const signed = (ciphertext: string): Push => {
    if (ciphertext.length >= 24) ledger.noteCiphertext(ciphertext);
    return signedWithToken(settings.token, ciphertext);
  };
  const cipherBytes = () => Buffer.from(encrypt(settings.aesKey, ledger.message('user_add_org'), ownerKey), 'base64');
  // Flipping the first byte flips the top byte of the plaintext's length field: too long for what follows.
  const tampered = cipherBytes();
  tampered[0] = (tampered[0] ?? 0) ^ 0xff;
  const oversized = valid();
  const otherKey = decodeAesKey(freshAesKey());

  return [
    without('signature'),
    without('timestamp'),
    without('nonce'),
    post('a wrong signature', withQuery(valid(), { signature: '0'.repeat(40) }), 401, 'bad_signature'),
    post('a signature made with another token', ledger.seal(ledger.message('user_add_org'), ownerKey, { token: `${settings.token}x`, aesKey: settings.aesKey }), 401, 'bad_signature'),
    post('an empty body', { ...valid(), body: '' }, 400, 'bad_request'),
    post('a body that is not JSON', { ...valid(), body: `encrypt=${encodeURIComponent((JSON.parse(valid().body) as { encrypt: string }).encrypt)}` }, 400, 'bad_request'),
    post('a JSON body without encrypt', { ...valid(), body: JSON.stringify({ data: ledger.canary }) }, 400, 'bad_request'),
    post('an encrypt that is not base64', signed('@@ not base64 @@'), 400, 'undecryptable'),
    post('a truncated ciphertext', signed(cipherBytes().subarray(0, 32).toString('base64')), 400, 'undecryptable'),
    post('a ciphertext that is not a multiple of 16 bytes', signed(cipherBytes().subarray(0, -5).toString('base64')), 400, 'undecryptable'),
    post('a tampered, re-signed ciphertext', signed(tampered.toString('base64')), 400, 'undecryptable'),
    post('a ciphertext for another ownerKey', ledger.seal(ledger.message('user_add_org'), `${ownerKey}other`), 400, 'undecryptable'),
    post('a ciphertext under another AES key', ledger.seal(ledger.message('user_add_org'), ownerKey, { token: settings.token, aesKey: otherKey }), 400, 'undecryptable'),
    post('a payload that is not JSON', ledger.seal(`EventType=user_add_org&remark=${ledger.canary}`), 400, 'undecryptable'),
    post('a payload without EventType', ledger.seal(JSON.stringify({ CorpId: ownerKey, remark: ledger.canary })), 400, 'undecryptable'),
    post('a payload whose EventType is not a string', ledger.seal(JSON.stringify({ EventType: 42, remark: ledger.canary })), 400, 'undecryptable'),
    post('a payload naming EventType twice', ledger.seal(`{"EventType":"user_add_org","remark":"${ledger.canary}","EventType":"check_url"}`), 400, 'undecryptable'),
    post(`a body over ${MAX_BODY_BYTES} bytes`, { ...oversized, body: oversized.body.padEnd(MAX_BODY_BYTES + 1, ' ') }, 413, 'payload_too_large'),
    { what: 'a GET', method: 'GET', query: valid().query, status: 405, error: 'method_not_allowed' },
    ...['PUT', 'DELETE', 'PATCH'].map((method) => ({ ...post(`a ${method} of a valid push`, valid(), 405, 'method_not_allowed'), method })),
  ];
}

/** A random 43-character EncodingAESKey. */
function freshAesKey(): string {
  return randomBytes(32).toString('base64').slice(0, 43);
}
