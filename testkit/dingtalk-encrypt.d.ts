// Types for the parts of the npm peer `dingtalk-encrypt` that the interoperability tests and the bench use.
declare module 'dingtalk-encrypt' {
  export default class DingTalkEncryptor {
    constructor(token: string, encodingAesKey: string, corpIdOrSuiteKey: string);
    encrypt(random: string, plainText: string): string;
    decrypt(encrypted: string): string;
    getSignature(token: string, timestamp: string, nonce: string, encrypt: string): string;
    getEncryptedMap(plaintext: string, timeStamp: string, nonce: string): { msg_signature: string; encrypt: string; timeStamp: string; nonce: string };
    getDecryptMsg(msgSignature: string, timeStamp: string, nonce: string, encryptMsg: string): string;
  }
}
