import { createCipheriv, createDecipheriv, createHash, randomFillSync, timingSafeEqual } from 'node:crypto';
import { DecryptError, SignatureError } from './errors';

/** DingTalk pads to 32-byte blocks, not AES's 16 (docs/protocol.md, "Verify, then decrypt"). */
const PAD_BLOCK = 32;

/** What a ciphertext holds: the message bytes and the ownerKey it was made for. */
export interface Plaintext {
  message: Buffer;
  ownerKey: string;
}

/** A call to the system's random source costs microseconds whatever its size, so draw many at once. */
const entropyPool = Buffer.alloc(4096);
let entropyUsed = entropyPool.length;

/** `size` fresh random bytes (at most 4096), from the pool. */
function randomBytes(size: number): Buffer {
  if (entropyUsed + size > entropyPool.length) {
    randomFillSync(entropyPool);
    entropyUsed = 0;
  }
  entropyUsed += size;
  return Buffer.from(entropyPool.subarray(entropyUsed - size, entropyUsed));
}

/** Lowercase hex SHA-1 of `[token, timestamp, nonce, encrypt]` sorted in byte order. */
export function sign(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return signatureDigest(token, timestamp, nonce, encrypt).toString('hex');
}

function signatureDigest(token: string, timestamp: string, nonce: string, encrypt: string): Buffer {
  const hash = createHash('sha1');
  for (const part of [token, timestamp, nonce, encrypt].sort(byteOrder)) hash.update(part, 'utf8');
  return hash.digest();
}

/**
 * Compares strings as their UTF-8 bytes compare, without encoding them: that is code point order,
 * which differs from JavaScript's UTF-16 order only between surrogates and U+E000–U+FFFF.
 */
function byteOrder(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/** The standard base64 alphabet with its padding, nothing else (no base64url `-` or `_`, no spaces). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Base64-decodes strictly: Node's decoder takes base64url's `-` and `_` too, skips characters
 * outside the alphabet and stops at the first '=', so the alphabet is checked first and any such
 * character shows as fewer bytes than the length promises.
 */
function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === (text.length / 4) * 3 - padding ? bytes : undefined;
}

/** Whether `received` is the signature of the other four strings (hex, any case), compared in constant time. */
export function signatureMatches(received: string, token: string, timestamp: string, nonce: string, encrypt: string): boolean {
  // Buffer's hex decoder stops at the first character that is not hex, so anything else comes out short.
  const actual = Buffer.from(received, 'hex');
  return received.length === 40 && actual.length === 20 && timingSafeEqual(actual, signatureDigest(token, timestamp, nonce, encrypt));
}

/** What {@link unseal} made of a ciphertext: its parts, and the first thing wrong with it, if any. */
export interface Unsealed extends Plaintext {
  /** Why the ciphertext is no DingTalk plaintext (for a log line, never for the sender); absent when it is one. */
  fault?: string;
}

const NOTHING = Buffer.alloc(0);

/**
 * Decrypts a DingTalk ciphertext: AES-256-CBC with IV = the key's first 16 bytes, 32-byte PKCS#7,
 * then `random16 | uint32be length | message | ownerKey`. It never stops early on what the plaintext
 * holds: a bad padding or length still yields the bytes after the header as the message, so that
 * the caller parses them as it would a good one, and no answer comes sooner for one fault than for
 * another (a padding oracle needs either). Nothing of the plaintext is put in the fault.
 */
export function unseal(aesKey: Buffer, encrypt: string): Unsealed {
  const ciphertext = decodeBase64(encrypt);
  if (ciphertext === undefined) return { message: NOTHING, ownerKey: '', fault: 'encrypt is not base64' };
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    return { message: NOTHING, ownerKey: '', fault: 'ciphertext length is not a positive multiple of 16 bytes' };
  }
  const decipher = createDecipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, 16)).setAutoPadding(false);
  // Without padding, update() gives every whole block at once and final() would add nothing.
  const padded = decipher.update(ciphertext);
  const pad = padded[padded.length - 1]!;
  // Every one of the last PAD_BLOCK bytes is looked at, whatever the pad says.
  let mismatch = pad < 1 || pad > PAD_BLOCK || pad > padded.length ? 1 : 0;
  for (let i = 1; i <= Math.min(PAD_BLOCK, padded.length); i++) mismatch |= (padded[padded.length - i]! ^ pad) & (i <= pad ? 0xff : 0);
  const plain = padded.subarray(0, padded.length - (mismatch === 0 ? pad : 0));
  const length = plain.length >= 20 ? plain.readUInt32BE(16) : 0;
  const fault =
    mismatch !== 0 ? 'ciphertext does not decrypt to valid padding (wrong AES key or tampered ciphertext)'
    : plain.length < 20 ? 'plaintext is shorter than its header'
    : length > plain.length - 20 ? 'plaintext message length exceeds the plaintext'
    : undefined;
  const end = fault === undefined ? 20 + length : plain.length;
  return { message: plain.subarray(Math.min(20, plain.length), end), ownerKey: plain.subarray(end).toString('utf8'), fault };
}

/**
 * {@link unseal}, for a caller that wants the plaintext or nothing (the DingTalk side opening a reply).
 * @throws DecryptError when any step does not hold; nothing of the plaintext is put in the message.
 */
export function decrypt(aesKey: Buffer, encrypt: string): Plaintext {
  const { message, ownerKey, fault } = unseal(aesKey, encrypt);
  if (fault !== undefined) throw new DecryptError(fault);
  return { message, ownerKey };
}

/** Encrypts `message` for `ownerKey` as DingTalk expects it; `random` is fresh unless a test fixes it. */
export function encrypt(aesKey: Buffer, message: string | Buffer, ownerKey: string, random: Buffer = randomBytes(16)): string {
  const length = typeof message === 'string' ? Buffer.byteLength(message, 'utf8') : message.length;
  const unpadded = 16 + 4 + length + Buffer.byteLength(ownerKey, 'utf8');
  const pad = PAD_BLOCK - (unpadded % PAD_BLOCK);
  // One buffer, written in place: every byte of it is set below.
  const plain = Buffer.allocUnsafe(unpadded + pad);
  random.copy(plain, 0, 0, 16);
  plain.writeUInt32BE(length, 16);
  if (typeof message === 'string') plain.write(message, 20, 'utf8');
  else message.copy(plain, 20);
  plain.write(ownerKey, 20 + length, 'utf8');
  plain.fill(pad, unpadded);
  const cipher = createCipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, 16)).setAutoPadding(false);
  return cipher.update(plain).toString('base64'); // a whole number of blocks: final() would add nothing
}

/** The four strings of a signed ciphertext, in a push's query and body or in a reply's body. */
export interface Envelope {
  signature: string;
  timestamp: string;
  nonce: string;
  encrypt: string;
}

/** The secrets an envelope is sealed and opened with: {@link Settings} has them. */
export interface Secrets {
  token: string;
  aesKey: Buffer;
}

/** Encrypts `message` for `ownerKey` and signs it with a fresh timestamp and nonce. */
export function seal(secrets: Secrets, message: string | Buffer, ownerKey: string, now = Date.now()): Envelope {
  const timestamp = String(now);
  const entropy = randomBytes(22);
  const nonce = entropy.toString('hex', 16);
  const ciphertext = encrypt(secrets.aesKey, message, ownerKey, entropy.subarray(0, 16));
  return { signature: sign(secrets.token, timestamp, nonce, ciphertext), timestamp, nonce, encrypt: ciphertext };
}

/**
 * Verifies an envelope's signature, then decrypts it.
 * @throws SignatureError before any decryption when the signature does not match; DecryptError after.
 */
export function open(secrets: Secrets, envelope: Envelope): Plaintext {
  if (!signatureMatches(envelope.signature, secrets.token, envelope.timestamp, envelope.nonce, envelope.encrypt)) {
    throw new SignatureError('signature does not match');
  }
  return decrypt(secrets.aesKey, envelope.encrypt);
}
