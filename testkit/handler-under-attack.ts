import { createDecipheriv } from 'node:crypto';
import { expect } from 'chai';
import { openReply } from '../core/dingtalk-side';
import type { EventStore } from '../core/listing';
import { recordId } from './fixtures';
import { captureOutput } from './capture-output';
import { hostilePushes, type SecretLedger } from './hostile-pushes';
import { attackLastByte, lastBlock, signedWithToken } from './padding-oracle';

/** What a cloud handler answered, reduced to what these tests read. */
export interface HandlerAnswer {
  statusCode: number;
  body: string;
}

/** A cloud handler under test, over its own event shape and its own store. */
export interface HandlerUnderAttack {
  ledger: SecretLedger;
  /** Sends one request through the handler, wrapped as its cloud hands requests over. */
  send: (method: string, query: Record<string, string>, body?: string) => Promise<HandlerAnswer>;
  /** Reads the handler's store directly. */
  store: () => EventStore;
}


/**
 * The hostile matrix and the duplicate storm, which every cloud's handler must survive alike: each
 * hostile push its 4xx, one clean JSON log line per push with no secret in all the output, and 50
 * concurrent deliveries of one event stored once.
 */
export function itHoldsUnderAttack(subject: HandlerUnderAttack): void {
  const replyOf = (answer: HandlerAnswer) => openReply(subject.ledger.settings, answer.body, subject.ledger.ownerKey);

  it('answers every hostile push with its 4xx and prints one JSON line per push, never a secret, ciphertext or payload', async function () {
    const { ledger, send } = subject;
    const pushes = hostilePushes(ledger);
    const valid = ledger.message('user_add_org', { TimeStamp: '1700000000001' });
    const { result, output, pushLogs } = await captureOutput(async () => {
      const answers: HandlerAnswer[] = [];
      for (const hostile of pushes) answers.push(await send(hostile.method, hostile.query, hostile.body));
      const push = ledger.seal(valid);
      answers.push(await send('POST', push.query, push.body));
      return answers;
    });
    const rejected = result.slice(0, -1);
    expect(rejected.map((answer) => [answer.statusCode, (JSON.parse(answer.body) as { error: string }).error])).to.deep.equal(pushes.map((hostile) => [hostile.status, hostile.error]));
    expect(replyOf(result.at(-1)!)).to.equal('success');
    expect((await subject.store().get(recordId(valid, ledger.ownerKey)))?.payload).to.equal(valid);

    expect(ledger.leaksIn(`${output}${result.map((answer) => answer.body).join('')}`)).to.deep.equal([]);
    expect(pushLogs.map((entry) => [entry.status, entry.outcome])).to.deep.equal([...pushes.map((hostile) => [hostile.status, 'rejected']), [200, 'created']]);
    expect(new Set(pushLogs.map((entry) => entry.requestId)).size, 'a request id of its own on each line').to.equal(pushes.length + 1);
    expect(pushLogs.at(-1)).to.include({ eventType: 'user_add_org', id: recordId(valid, ledger.ownerKey) });
    for (const entry of pushLogs) expect(entry.latencyMs).to.be.a('number');
  });

  it('gives a padding-oracle attack that knows the token but not the AES key one and the same answer to every request: it learns nothing', async function () {
    const { ledger, send } = subject;
    const captured = ledger.seal(ledger.message('user_add_org'));
    const block = lastBlock(captured);
    const attempt = (observe: (answer: HandlerAnswer, log: string | undefined) => string) =>
      attackLastByte(async (ciphertext) => {
        const push = signedWithToken(ledger.settings.token, ciphertext);
        const { result, pushLogs } = await captureOutput(() => send('POST', push.query, push.body));
        return observe(result, pushLogs[0]?.reason);
      }, block);

    const onAnswers = await attempt((answer) => JSON.stringify(answer));
    expect(onAnswers.requests).to.equal(256);
    expect(onAnswers.observations.size, 'distinct answers, headers included').to.equal(1);
    const [only] = onAnswers.observations.keys();
    expect(JSON.parse(only!)).to.include({ statusCode: 400, body: '{"error":"undecryptable","message":"encrypt does not decrypt to a DingTalk message for this function"}' });
    expect(onAnswers.intermediate).to.equal(undefined);

    // The same attack, shown the log line's reason (which never leaves the function), does find the byte.
    const onLogs = await attempt((_answer, reason) => String(reason));
    const decipher = createDecipheriv('aes-256-ecb', ledger.settings.aesKey, null).setAutoPadding(false);
    expect(onLogs.intermediate, 'the attack works where there is an oracle').to.equal(decipher.update(block)[15]);
    expect(onLogs.observations.size).to.be.above(1);
  });

  it('answers 50 concurrent deliveries of one event, each a fresh ciphertext, with success, and keeps one record', async function () {
    const { ledger, send } = subject;
    const message = ledger.message('bpms_instance_change', { processInstanceId: 'storm-50' });
    const deliver = () => {
      const push = ledger.seal(message);
      return send('POST', push.query, push.body);
    };
    const { result, pushLogs } = await captureOutput(() => Promise.all(Array.from({ length: 50 }, deliver)));
    expect(result.map(replyOf)).to.deep.equal(Array.from({ length: 50 }, () => 'success'));
    expect((await subject.store().list({ processInstanceId: 'storm-50' })).records.map((record) => record.payload)).to.deep.equal([message]);
    expect(pushLogs.filter((entry) => entry.outcome === 'created')).to.have.length(1);
    expect(pushLogs.filter((entry) => entry.outcome === 'duplicate')).to.have.length(49);
  });

  it('stores each of the events that only look alike: one message for two ownerKeys, an eventId equal to a derived id, one eventId under two types', async function () {
    const { ledger, send } = subject;
    const plain = ledger.message('user_add_org', { TimeStamp: '1700000000003' });
    const typed = ledger.message('unknown_future_event', { eventId: `e-${ledger.canary}` });
    const pushes: Array<[string, string]> = [
      [plain, ledger.ownerKey],
      [plain, ledger.otherOwnerKey],
      [ledger.message('user_add_org', { eventId: recordId(plain, ledger.ownerKey).split(':').at(-1) }), ledger.ownerKey],
      [ledger.message('user_add_org', { eventId: recordId(plain, ledger.ownerKey) }), ledger.ownerKey],
      [typed, ledger.ownerKey],
      [typed.replace('"calendar_event_change"', '"calendar_event_delete"'), ledger.ownerKey],
    ];
    const { result } = await captureOutput(async () => {
      const answers: HandlerAnswer[] = [];
      for (const [message, ownerKey] of [...pushes, ...pushes]) {
        const push = ledger.seal(message, ownerKey);
        answers.push(await send('POST', push.query, push.body));
      }
      return answers;
    });
    expect(result.map((answer) => answer.statusCode)).to.deep.equal(Array.from({ length: 12 }, () => 200));
    const ids = pushes.map(([message, ownerKey]) => recordId(message, ownerKey));
    expect(new Set(ids).size).to.equal(pushes.length);
    for (const [index, [message, ownerKey]] of pushes.entries()) {
      expect(await subject.store().get(ids[index]!), `push ${index}`).to.include({ payload: message, ownerKey, source: 'push' });
    }
  });

  it('stores, rather than answering 503 forever, events whose fields are over every key limit', async function () {
    const { ledger, send } = subject;
    const huge = '钉'.repeat(70_000); // 210 KB
    const messages = [
      ledger.message('user_add_org', { eventId: 'e'.repeat(2100) }), // over DynamoDB's 2 KB and Tablestore's 1 KB keys
      ledger.message('user_add_org', { CorpId: huge }), // a 210 KB CorpId, which once pushed the item over 400 KB
      ledger.message('bpms_instance_change', { processInstanceId: 'p'.repeat(1500) }), // over an index key's 1 KB
      ledger.message('user_add_org', { EventType: `user_add_org_${'x'.repeat(2100)}` }),
    ];
    const { result, pushLogs } = await captureOutput(async () => {
      const answers: HandlerAnswer[] = [];
      for (const message of messages) {
        const push = ledger.seal(message);
        answers.push(await send('POST', push.query, push.body));
      }
      return answers;
    });
    expect(result.map((answer) => answer.statusCode)).to.deep.equal([200, 200, 200, 200]);
    expect(pushLogs.map((entry) => entry.outcome)).to.deep.equal(['created', 'created', 'created', 'created']);
    for (const message of messages) expect((await subject.store().get(recordId(message, ledger.ownerKey)))?.payload).to.equal(message);
    const approvals = (await subject.store().list({ processInstanceId: 'p'.repeat(1500) })).records;
    expect(approvals.map((record) => record.payload)).to.deep.equal([messages[2]]);
  });
}
