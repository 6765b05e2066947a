import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'chai';
import { ConfigError } from '../../core/errors';
import { AwsError, AwsJsonClient, credentialsFromEnv, DYNAMODB } from '../../providers/aws/aws-json-client';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local server answering each request with the next of `answers` (status, JSON body), the last one repeated. */
async function answering(answers: Array<[number, object]>): Promise<{ server: Server; endpoint: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ method: request.method!, path: request.url!, headers: request.headers, body });
      const [status, answer] = answers[Math.min(received.length, answers.length) - 1]!;
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** SHA-256 for the SDK's signer, from node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

const bytes = (data: string | ArrayBuffer | ArrayBufferView) =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
const THROTTLED: [number, object] = [400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'Rate exceeded' }];

describe('providers/aws/aws-json-client', function () {
  const servers: Server[] = [];
  const clients: AwsJsonClient[] = [];
  const start = async (answers: Array<[number, object]>) => {
    const local = await answering(answers);
    servers.push(local.server);
    const client = new AwsJsonClient({ service: DYNAMODB, region: 'ap-southeast-1', credentials: CREDENTIALS, endpoint: local.endpoint });
    clients.push(client);
    return { ...local, client };
  };
  afterEach(async function () {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("signs each request as the AWS SDK's own SigV4 signer does, session token included", async function () {
    const { client, received } = await start([[200, {}]]);
    await client.call('PutItem', { TableName: 'events', Item: { eventId: { S: '事件' } } });
    const [request] = received;
    expect(request?.headers['x-amz-target']).to.equal('DynamoDB_20120810.PutItem');
    expect(request?.headers['x-amz-security-token']).to.equal('session-token');
    const authorization = String(request?.headers.authorization);
    const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    expect(signedNames).to.include.members(['host', 'x-amz-date', 'x-amz-target', 'content-type']);
    const headers = Object.fromEntries(signedNames.map((name) => [name, String(request!.headers[name])]));
    const date = String(request?.headers['x-amz-date']);
    const sdk = new SignatureV4({ service: 'dynamodb', region: 'ap-southeast-1', credentials: CREDENTIALS, sha256: Sha256, applyChecksum: false });
    const signed = await sdk.sign(
      { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', headers, body: request!.body, query: {} },
      { signingDate: new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`) },
    );
    const expected = /Signature=(\w+)/.exec(String(signed.headers.authorization))![1];
    expect(/Signature=(\w+)/.exec(authorization)![1]).to.equal(expected);
  });

  it('sends binary values base64-encoded, as the JSON protocol carries them', async function () {
    const { client, received } = await start([[200, {}]]);
    const gzipped = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff]);
    await client.call('PutItem', { Item: { payloadGzip: { B: gzipped }, view: { B: new Uint8Array(gzipped.buffer, gzipped.byteOffset + 1, 2) } } });
    expect(JSON.parse(received[0]!.body)).to.deep.equal({ Item: { payloadGzip: { B: gzipped.toString('base64') }, view: { B: gzipped.subarray(1, 3).toString('base64') } } });
  });

  it('retries throttling and 5xx answers, then answers the reply', async function () {
    const { client, received } = await start([THROTTLED, [500, { __type: 'InternalServerError', message: 'oops' }], [200, { ok: true }]]);
    expect(await client.call('PutItem', {})).to.deep.equal({ ok: true });
    expect(received).to.have.length(3);
  });

  it('does not retry an answer that will never change, and names the operation, the code and the attempts', async function () {
    const { client, received } = await start([[400, { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' }]]);
    const failure = await client.call('PutItem', {}).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(AwsError).with.property('name', 'ConditionalCheckFailedException');
    expect((failure as AwsError).message).to.equal('DynamoDB PutItem failed after 1 attempt: ConditionalCheckFailedException (HTTP 400): The conditional request failed');
    expect(received).to.have.length(1);
  });

  it('gives up on throttling after its attempts, saying so', async function () {
    const { client, received } = await start([THROTTLED]);
    const failure = (await client.call('PutItem', {}).catch((error: unknown) => error)) as AwsError;
    expect(failure.message).to.match(/^DynamoDB PutItem failed after 3 attempts: ProvisionedThroughputExceededException \(HTTP 400\): Rate exceeded$/);
    expect(received).to.have.length(3);
  });

  it('ends the call, its backoff included, as soon as the signal aborts', async function () {
    const { client, endpoint } = await start([THROTTLED]);
    const patient = new AwsJsonClient({ service: DYNAMODB, region: 'ap-southeast-1', credentials: CREDENTIALS, endpoint, maxAttempts: 100 });
    clients.push(patient, client);
    // Without the abort, 100 attempts' backoff would outlast the test's timeout by minutes.
    const failure = await patient.call('PutItem', {}, AbortSignal.timeout(300)).catch((error: unknown) => error);
    expect(failure).to.have.property('name', 'TimeoutError');
  });

  it('reads the credentials Lambda gives, naming a missing variable', function () {
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c' })).to.deep.equal({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 'c' });
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })).to.deep.equal({ accessKeyId: 'a', secretAccessKey: 'b' });
    expect(() => credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a' })).to.throw(ConfigError).with.property('variable', 'AWS_SECRET_ACCESS_KEY');
  });
});
