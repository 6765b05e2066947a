import { inspect } from 'node:util';
import { ConfigError } from './errors';

/** The environment variables the function reads, by name. */
export type Environment = Record<string, string | undefined>;

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
 * @throws ConfigError naming the first variable that is missing or invalid.
 */
export function loadSettings(env: Environment): Settings {
  const token = required(env, 'DINGTALK_TOKEN');
  const aesKey = decodeAesKey(required(env, 'DINGTALK_AES_KEY'));
  const ownerKeys = required(env, 'DINGTALK_OWNER_KEY').split(',').map((key) => key.trim()).filter(Boolean);
  if (ownerKeys.length === 0) throw new ConfigError('DINGTALK_OWNER_KEY', 'must name at least one corpId, appKey or suiteKey');
  const maxSkewSeconds = optionalWholeNumber(env, 'DINGTALK_MAX_SKEW_SECONDS', 0, 'seconds (0 turns the check off)') ?? 0;
  return new Settings(token, aesKey, ownerKeys, maxSkewSeconds);
}

/** A variable's trimmed value. @throws ConfigError naming it when it is unset or blank. */
export function required(env: Environment, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ConfigError(variable, 'is not set');
  return value;
}

/**
 * A variable's value as a whole number of at least `min`, or undefined when it is unset or blank.
 * @throws ConfigError naming it when it is anything else.
 */
export function optionalWholeNumber(env: Environment, variable: string, min: number, unit: string): number | undefined {
  const value = env[variable]?.trim();
  if (!value) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new ConfigError(variable, `must be a whole number of ${unit}, ${min} or more`);
  return number;
}
