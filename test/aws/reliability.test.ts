import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError } from '../../core/errors';
import { openReply } from '../../core/dingtalk-side';
import { createHandler, type ProxyResult } from '../../handlers/aws/callback';
import type { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { captureOutput } from '../../testkit/capture-output';
import { itHoldsUnderAttack } from '../../testkit/handler-under-attack';
import { GENEROUS_PUT_DEADLINE_MS } from '../../testkit/dynamodb';
import { startProxiedDynamoDb, type DynamoDbProxy, type ProxiedDynamoDb } from '../../testkit/dynamodb-proxy';
import { freshDingTalkEnv, SecretLedger } from '../../testkit/hostile-pushes';
import { recordId } from '../../testkit/fixtures';
import { httpApiEvent } from '../../testkit/gateway-events';

const TABLE = 'dingtalk-callback-events';

describe('handlers/aws: hostile input, duplicate storms and DynamoDB outages', function () {
  const ledger = new SecretLedger(freshDingTalkEnv());
  let db: ProxiedDynamoDb;
  let proxy: DynamoDbProxy;
  /** The function's own client with its default retries, as the function builds it, but through the proxy. */
  let client: ProxiedDynamoDb['client'];
  /** Reads dynalite directly, whatever the proxy is doing. */
  let store: DynamoDbEventStore;
  /** The handler with its default logger, which writes to stdout, and the default put deadline. */
  let handler: (event: unknown) => Promise<ProxyResult>;
  /**
   * The same over the same client with npm start's deadline, for whatever is not about the deadline
   * (the hostile matrix, the storm, the push once DynamoDB is back): they test what is stored, and
   * dynalite shares this process's CPU, so on a busy machine a put could outlast the default one.
   */
  let patientHandler: (event: unknown) => Promise<ProxyResult>;
  const replyOf = (result: ProxyResult) => openReply(ledger.settings, result.body, ledger.ownerKey);

  before(async function () {
    db = await startProxiedDynamoDb(TABLE);
    ({ store, proxy, client } = db);
    handler = createHandler({ env: { ...ledger.env, EVENTS_TABLE: TABLE }, dynamodb: client });
    patientHandler = createHandler({ env: { ...ledger.env, EVENTS_TABLE: TABLE, DYNAMODB_PUT_DEADLINE_MS: String(GENEROUS_PUT_DEADLINE_MS) }, dynamodb: client });
  });
  after(async function () {
    await db.close();
  });

  itHoldsUnderAttack({ ledger, send: (method, query, body) => patientHandler(httpApiEvent({ method, query, body })), store: () => store });

  it('refuses to start with a DYNAMODB_PUT_DEADLINE_MS that is no whole number of milliseconds, naming it', async function () {
    for (const value of ['soon', '0', '1.5']) {
      const failure = await createHandler({ env: { ...ledger.env, EVENTS_TABLE: TABLE, DYNAMODB_PUT_DEADLINE_MS: value }, dynamodb: client })({}).catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(ConfigError).with.property('variable', 'DYNAMODB_PUT_DEADLINE_MS');
    }
  });

  describe('DynamoDB failing: 503 with nothing stored, then the same push stored once DynamoDB is back', function () {
    // The push that fails goes through the handler with the default deadline, which ends the wait for
    // a throttled or hung put; the same push again, once DynamoDB is back, through the patient one over
    // the same client: however busy the machine, it must be stored then.
    const outages: Array<[string, () => unknown, () => unknown]> = [
      ['throttling every request (ProvisionedThroughputExceededException, over HTTP)', () => proxy.set('throttling'), () => proxy.set('up')],
      ['refusing connections', () => proxy.unreachable(), () => proxy.restore()],
      ['accepting requests and never answering (the put deadline ends the wait)', () => proxy.set('hanging'), () => proxy.set('up')],
    ];
    for (const [n, [what, fail, mend]] of outages.entries()) {
      it(what, async function () {
        const message = ledger.message('user_add_org', { TimeStamp: String(1_700_000_100_000 + n) });
        const event = httpApiEvent(ledger.seal(message));
        const puts = proxy.requests.get('PutItem') ?? 0;
        await fail();
        const { result: failed, pushLogs } = await captureOutput(() => handler(event));
        // Read from dynalite itself while the outage lasts: a try the put deadline cut short on its
        // way may still land once DynamoDB is back, as it may in the cloud (the put's condition makes
        // that harmless, and the retry is a duplicate).
        expect(await store.get(recordId(message, ledger.ownerKey)), 'nothing stored').to.equal(undefined);
        await mend();
        expect(failed.statusCode).to.equal(503);
        expect(JSON.parse(failed.body)).to.include({ error: 'store_unavailable' });
        expect(pushLogs).to.have.length(1);
        expect(pushLogs[0]).to.include({ level: 'error', outcome: 'store_failed', status: 503, id: recordId(message, ledger.ownerKey) });
        if (what.startsWith('refusing')) expect(proxy.requests.get('PutItem') ?? 0).to.equal(puts);
        else expect(proxy.requests.get('PutItem') ?? 0, 'the put went out over HTTP').to.be.above(puts);

        const { result: again } = await captureOutput(() => patientHandler(event));
        expect(replyOf(again)).to.equal('success');
        expect((await store.get(recordId(message, ledger.ownerKey)))?.payload).to.equal(message);
      });
    }
  });

  it('answers 413, not 503, with a log line saying why, a push whose item cannot fit in 400 KB even compressed', async function () {
    // Random text does not compress: ~720 KB of it stays over DynamoDB's item limit after gzip.
    const noise = randomBytes(540 * 1024).toString('base64');
    const message = ledger.message('attendance_check_record', { noise });
    const { result, pushLogs } = await captureOutput(() => handler(httpApiEvent(ledger.seal(message))));
    expect(result.statusCode).to.equal(413);
    expect(JSON.parse(result.body)).to.include({ error: 'event_unstorable' });
    expect(pushLogs[0]).to.include({ level: 'warn', outcome: 'rejected', status: 413, error: 'event_unstorable' });
    expect(pushLogs[0]?.reason).to.match(/over DynamoDB's 409600-byte item limit/);
    expect(await store.get(recordId(message, ledger.ownerKey))).to.equal(undefined);
  });
});
