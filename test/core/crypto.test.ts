import { expect } from 'chai';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import DingTalkEncryptor from 'dingtalk-encrypt';
import fc from 'fast-check';
import { decrypt, encrypt, open, seal, sign, signatureMatches, unseal } from '../../core/crypto';
import { DecryptError, SignatureError } from '../../core/errors';
import { decodeAesKey } from '../../core/settings';
import { SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../../testkit/fixtures';

const { aesKey, token } = SAMPLE_SETTINGS;

/** The published self-check push of docs/protocol.md. */
const PUBLISHED = {
  signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb',
  timestamp: '1608001896814',
  nonce: 'WL4PK6yA',
  encrypt: '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3',
};

/** AES-256-CBC with DingTalk's key and IV, no padding: to build ciphertexts the encoder would refuse to. */
function rawEncrypt(plain: Buffer): string {
  const cipher = createCipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

/** A valid ciphertext under `key`, written in base64url (Node's base64 decoder takes it). */
function base64url(key: Buffer): string {
  let ciphertext = '';
  while (!/[+/]/.test(ciphertext)) ciphertext = encrypt(key, '{"EventType":"check_url"}', SAMPLE_OWNER);
  return ciphertext.replaceAll('+', '-').replaceAll('/', '_');
}

function rawDecrypt(ciphertext: string): Buffer {
  const decipher = createDecipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]);
}

describe('core/crypto', function () {
  describe('the published self-check sample', function () {
    it('has the published signature', function () {
      expect(sign(token, PUBLISHED.timestamp, PUBLISHED.nonce, PUBLISHED.encrypt)).to.equal(PUBLISHED.signature);
      expect(signatureMatches(PUBLISHED.signature, token, PUBLISHED.timestamp, PUBLISHED.nonce, PUBLISHED.encrypt)).to.equal(true);
    });

    it('decrypts to check_url for the published ownerKey', function () {
      const plain = open(SAMPLE_SETTINGS, PUBLISHED);
      expect(plain.message.toString('utf8')).to.equal('{"EventType":"check_url"}');
      expect(plain.ownerKey).to.equal(SAMPLE_OWNER);
    });
  });

  describe('signatures', function () {
    it('sorts the four strings in byte order before hashing', function () {
      // 'B' (0x42) sorts before 'a' (0x61) in byte order; a locale-aware sort would put 'a' first.
      expect(sign('a', 'B', '1', 'z')).to.equal(createHash('sha1').update('1Baz').digest('hex'));
      expect(sign('z', '1', 'B', 'a')).to.equal(createHash('sha1').update('1Baz').digest('hex'));
    });

    it('orders by UTF-8 bytes for any Unicode, surrogate pairs and U+E000–U+FFFF included', function () {
      const text = fc.string({ unit: 'binary', maxLength: 6 });
      fc.assert(
        fc.property(text, text, text, text, (a, b, c, d) => {
          const bytes = [a, b, c, d].map((part) => Buffer.from(part, 'utf8')).sort(Buffer.compare);
          expect(sign(a, b, c, d)).to.equal(createHash('sha1').update(Buffer.concat(bytes)).digest('hex'));
        }),
        { numRuns: 500 },
      );
      expect(sign('\u{10000}', '\ue000', 'a', 'b')).to.equal(createHash('sha1').update('ab\ue000\u{10000}').digest('hex'));
    });

    it('rejects any other signature, including a prefix and an empty one', function () {
      const good = sign(token, '1', 'n', 'e');
      expect(signatureMatches(good.toUpperCase(), token, '1', 'n', 'e')).to.equal(true);
      expect(signatureMatches(good.slice(0, 39), token, '1', 'n', 'e')).to.equal(false);
      expect(signatureMatches('', token, '1', 'n', 'e')).to.equal(false);
      expect(signatureMatches(`${good.slice(0, 38)}zz`, token, '1', 'n', 'e')).to.equal(false);
      expect(signatureMatches(`${good}00`, token, '1', 'n', 'e')).to.equal(false);
      expect(signatureMatches(good, token, '2', 'n', 'e')).to.equal(false);
      expect(signatureMatches(good, 'other-token', '1', 'n', 'e')).to.equal(false);
    });

    it('refuses to decrypt an envelope whose signature does not match', function () {
      expect(() => open(SAMPLE_SETTINGS, { ...PUBLISHED, nonce: 'WL4PK6yB' })).to.throw(SignatureError);
    });
  });

  describe('round trips', function () {
    for (const message of ['success', '{"title":"张三提交的请假申请","emoji":"🏖️👍🏽"}', '', 'ä'.repeat(1000)]) {
      it(`keeps ${JSON.stringify(message.slice(0, 30))} byte for byte`, function () {
        const plain = decrypt(aesKey, encrypt(aesKey, message, SAMPLE_OWNER));
        expect(plain.message.toString('utf8')).to.equal(message);
        expect(plain.ownerKey).to.equal(SAMPLE_OWNER);
      });
    }

    it('adds a whole 32-byte padding block when the plaintext fills its last block', function () {
      // 16 random + 4 length + message + 20-byte ownerKey = 64 bytes when the message is 24 bytes.
      const message = '{"EventType":"org_x"}'.padEnd(24, ' ');
      const ciphertext = encrypt(aesKey, message, SAMPLE_OWNER);
      const padded = rawDecrypt(ciphertext);
      expect(padded.length).to.equal(96);
      expect([...padded.subarray(64)]).to.deep.equal(Array(32).fill(32));
      expect(decrypt(aesKey, ciphertext).message.toString()).to.equal(message);
    });

    it('uses a fresh random prefix, so one message never gives the same ciphertext twice', function () {
      expect(encrypt(aesKey, 'success', SAMPLE_OWNER)).to.not.equal(encrypt(aesKey, 'success', SAMPLE_OWNER));
    });

    it('seals an envelope that opens again', function () {
      const envelope = seal(SAMPLE_SETTINGS, 'success', SAMPLE_OWNER, 1_700_000_000_000);
      expect(envelope.timestamp).to.equal('1700000000000');
      expect(envelope.nonce).to.match(/^[0-9a-f]{12}$/);
      expect(open(SAMPLE_SETTINGS, envelope).message.toString()).to.equal('success');
    });
  });

  describe('rejections', function () {
    const layout = (length: number, rest: Buffer): Buffer => {
      const header = Buffer.alloc(20);
      header.writeUInt32BE(length, 16);
      return Buffer.concat([header, rest]);
    };
    const withPad = (plain: Buffer, pad: number): Buffer => Buffer.concat([plain, Buffer.alloc(pad, pad)]);
    const cases: Array<[string, string]> = [
      ['not base64', 'not base64!'],
      ['base64 with a bad tail', 'QUJD='],
      ['base64 with padding in the middle', `QQ==${encrypt(aesKey, 'x', SAMPLE_OWNER).slice(4)}`],
      ['base64 with a space inside', ` ${encrypt(aesKey, 'x', SAMPLE_OWNER).slice(1)}`],
      ['base64url\'s - and _ in place of + and /', base64url(aesKey)],
      ['empty', ''],
      ['not a multiple of 16 bytes', Buffer.alloc(40).toString('base64')],
      ['a pad byte of 0', rawEncrypt(Buffer.alloc(32, 0))],
      ['a pad byte over 32', rawEncrypt(Buffer.alloc(64, 33))],
      ['pad bytes that disagree', rawEncrypt(Buffer.concat([layout(0, Buffer.from('x'.repeat(24))), Buffer.from([1, 2, 3, 4])]))],
      ['a length longer than the plaintext', rawEncrypt(withPad(layout(100, Buffer.from('{"a":1}corp')), 1))],
      ['a plaintext shorter than its header', rawEncrypt(withPad(Buffer.alloc(16), 16))],
      ['another AES key', encrypt(decodeAesKey('A'.repeat(43)), '{"EventType":"check_url"}', SAMPLE_OWNER)],
    ];
    for (const [what, ciphertext] of cases) {
      it(`rejects a ciphertext with ${what}`, function () {
        expect(() => decrypt(aesKey, ciphertext)).to.throw(DecryptError);
      });
    }

    it('unseals a bad padding or length to the bytes after the header, to be parsed as a good message would be', function () {
      const badPad = unseal(aesKey, rawEncrypt(Buffer.concat([layout(0, Buffer.from('x'.repeat(24))), Buffer.from([1, 2, 3, 4])])));
      expect(badPad).to.include({ fault: 'ciphertext does not decrypt to valid padding (wrong AES key or tampered ciphertext)', ownerKey: '' });
      expect(badPad.message.toString()).to.equal(`${'x'.repeat(24)}\x01\x02\x03\x04`);
      const badLength = unseal(aesKey, rawEncrypt(withPad(layout(100, Buffer.from('{"a":1}corp')), 1)));
      expect(badLength).to.include({ fault: 'plaintext message length exceeds the plaintext', ownerKey: '' });
      expect(badLength.message.toString()).to.equal('{"a":1}corp');
      expect(unseal(aesKey, encrypt(aesKey, '{"a":1}', SAMPLE_OWNER))).to.include({ fault: undefined, ownerKey: SAMPLE_OWNER });
    });

    it('rejects a tampered ciphertext', function () {
      const bytes = Buffer.from(encrypt(aesKey, '{"EventType":"user_add_org"}', SAMPLE_OWNER), 'base64');
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x55;
      expect(() => decrypt(aesKey, bytes.toString('base64'))).to.throw(DecryptError);
    });
  });

  describe('interoperability with the npm peer dingtalk-encrypt', function () {
    const peer = new DingTalkEncryptor(SAMPLE_ENV.DINGTALK_TOKEN, SAMPLE_ENV.DINGTALK_AES_KEY, SAMPLE_OWNER);

    it('opens what the peer seals, and the peer opens what we seal, for plain words', function () {
      const sealed = peer.getEncryptedMap('success', '1700000000000', 'abcdefgh');
      const plain = open(SAMPLE_SETTINGS, { signature: sealed.msg_signature, timestamp: sealed.timeStamp, nonce: sealed.nonce, encrypt: sealed.encrypt });
      expect(plain.message.toString()).to.equal('success');
      const ours = seal(SAMPLE_SETTINGS, 'success', SAMPLE_OWNER);
      expect(peer.getDecryptMsg(ours.signature, ours.timestamp, ours.nonce, ours.encrypt)).to.equal('success');
    });

    it('keeps JSON and Chinese text intact where the peer URI-encodes them', function () {
      const title = '{"title":"请假"}';
      const fromPeer = decrypt(aesKey, peer.encrypt('0123456789abcdef', title)).message.toString('utf8');
      expect(fromPeer).to.equal(encodeURI(title)).and.not.equal(title);
      expect(decrypt(aesKey, encrypt(aesKey, title, SAMPLE_OWNER)).message.toString('utf8')).to.equal(title);
    });
  });
});
