import { inspect } from 'node:util';
import { optionalWholeNumber, readAll, required, type Environment } from './environment';
import { ConfigError } from './errors';

const AES_KEY_PATTERN = /^[A-Za-z0-9+/]{43}$/;

/**
 * The validated DingTalk secrets. Built once at cold start by {@link loadSettings}; it redacts
 * itself when logged or serialised, so a stray `console.log(settings)` leaks nothing.
 */
export class Settings {
  constructor(
    /** The signing token. */
    readonly token: string,
    /** The 32-byte AES key decoded from the 43-character EncodingAESKey. */
    readonly aesKey: Buffer,
    /** The ownerKeys (corpId, appKey or suiteKey) this function accepts ciphertexts for. */
    readonly ownerKeys: readonly string[],
    /** Reject pushes whose timestamp is further than this from now; 0 turns the check off. */
    readonly maxSkewSeconds = 0,
  ) {}

  toJSON(): object {
    return { token: '[redacted]', aesKey: '[redacted]', ownerKeys: this.ownerKeys, maxSkewSeconds: this.maxSkewSeconds };
  }

  [inspect.custom](): string {
    return `Settings ${JSON.stringify(this.toJSON())}`;
  }
}

/** Decodes a 43-character EncodingAESKey into its 32-byte AES key, or explains what is wrong with it. */
export function decodeAesKey(encodingAesKey: string): Buffer {
  const variable = 'DINGTALK_AES_KEY';
  if (!AES_KEY_PATTERN.test(encodingAesKey)) {
    throw new ConfigError(variable, `must be exactly 43 base64 characters (A-Z a-z 0-9 + /), got ${encodingAesKey.length} characters`);
  }
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new ConfigError(variable, 'does not decode to a 32-byte AES key');
  return key;
}

/**
 * Reads and validates the DingTalk settings from environment variables
 * (`DINGTALK_TOKEN`, `DINGTALK_AES_KEY`, `DINGTALK_OWNER_KEY`, optional `DINGTALK_MAX_SKEW_SECONDS`).
 * @throws ConfigError listing every variable that is missing or invalid.
 */
export function loadSettings(env: Environment): Settings {
  const [token, aesKey, ownerKeys, maxSkewSeconds] = readAll(
    () => required(env, 'DINGTALK_TOKEN'),
    () => decodeAesKey(required(env, 'DINGTALK_AES_KEY')),
    () => ownerKeysOf(required(env, 'DINGTALK_OWNER_KEY')),
    () => optionalWholeNumber(env, 'DINGTALK_MAX_SKEW_SECONDS', 0, 'seconds (0 turns the check off)') ?? 0,
  );
  return new Settings(token, aesKey, ownerKeys, maxSkewSeconds);
}

/** The comma-separated ownerKeys of `DINGTALK_OWNER_KEY`. */
function ownerKeysOf(value: string): string[] {
  const ownerKeys = value.split(',').map((key) => key.trim()).filter(Boolean);
  if (ownerKeys.length === 0) throw new ConfigError('DINGTALK_OWNER_KEY', 'must name at least one corpId, appKey or suiteKey');
  return ownerKeys;
}
