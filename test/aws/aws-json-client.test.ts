import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'chai';
import { ConfigError } from '../../core/errors';
import { awsEndpoint, AwsError, AwsJsonClient, credentialsFromEnv, DYNAMODB, EVENTBRIDGE, functionClient, SQS, SSM, type AwsJsonService } from '../../providers/aws/aws-json-client';

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

  /**
   * The SDK v3 client of each service, whose endpoint rules are the reference, loaded without its
   * type declarations: those of the four clients are ~450 files, more than half of what `tsc` reads
   * for the whole repository, for the one constructor used here.
   */
  const sdkClient = (name: string, client: string) => (createRequire(__filename)(`@aws-sdk/client-${name}`) as Record<string, new (config: { region: string }) => { config: object }>)[client]!;
  const SDK_CLIENTS: Array<[AwsJsonService, ReturnType<typeof sdkClient>]> = [
    [DYNAMODB, sdkClient('dynamodb', 'DynamoDBClient')],
    [SSM, sdkClient('ssm', 'SSMClient')],
    [SQS, sdkClient('sqs', 'SQSClient')],
    [EVENTBRIDGE, sdkClient('eventbridge', 'EventBridgeClient')],
  ];

  it('calls each service where the AWS SDK does, in every partition: aws, aws-cn, aws-us-gov and the isolated ones', function () {
    const regions = ['us-east-1', 'ap-southeast-7', 'mx-central-1', 'cn-north-1', 'cn-northwest-1', 'us-gov-west-1', 'us-gov-east-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1'];
    for (const region of regions) {
      for (const [service, Sdk] of SDK_CLIENTS) {
        const { endpointProvider } = new Sdk({ region }).config as { endpointProvider: (params: object) => { url: URL } };
        const sdk = endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false }).url.href;
        expect(new URL(awsEndpoint(service, region)).href, `${service.title} in ${region}`).to.equal(sdk);
      }
    }
    expect(awsEndpoint(DYNAMODB, 'cn-north-1')).to.equal('https://dynamodb.cn-north-1.amazonaws.com.cn');
    expect(awsEndpoint(SSM, 'cn-north-1')).to.equal('https://ssm.cn-north-1.amazonaws.com.cn');
    expect(awsEndpoint(DYNAMODB, 'us-gov-west-1')).to.equal('https://dynamodb.us-gov-west-1.amazonaws.com');
    expect(awsEndpoint(SSM, 'us-gov-west-1')).to.equal('https://ssm.us-gov-west-1.amazonaws.com');
  });

  it("honours the SDK's AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL, and neither under AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", function () {
    const env = { AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:8000', AWS_ENDPOINT_URL: 'http://localhost:4566' };
    expect(awsEndpoint(DYNAMODB, 'eu-central-1', env)).to.equal('http://localhost:8000');
    expect(awsEndpoint(SSM, 'eu-central-1', env), 'another service: the general one').to.equal('http://localhost:4566');
    expect(awsEndpoint(SQS, 'eu-central-1', { AWS_ENDPOINT_URL_SQS: ' http://localhost:9324 ' })).to.equal('http://localhost:9324');
    expect(awsEndpoint(EVENTBRIDGE, 'eu-central-1', { AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://localhost:4010' })).to.equal('http://localhost:4010');
    expect(awsEndpoint(DYNAMODB, 'cn-north-1', { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'TRUE' })).to.equal('https://dynamodb.cn-north-1.amazonaws.com.cn');
    expect(awsEndpoint(DYNAMODB, 'eu-central-1', { AWS_ENDPOINT_URL_DYNAMODB: '  ' })).to.equal('https://dynamodb.eu-central-1.amazonaws.com');
  });

  for (const region of ['cn-north-1', 'us-gov-west-1']) {
    it(`in ${region}: builds the region's endpoint from the environment, and signs a real request for the region and the service`, async function () {
      const lambda = { AWS_REGION: region, AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey };
      const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
      for (const service of [DYNAMODB, SSM, SQS, EVENTBRIDGE]) expect(functionClient(service, lambda).url.href).to.equal(`https://${service.name}.${region}.${suffix}/`);

      const { endpoint, received, server } = await answering([[200, { Parameters: [] }]]);
      servers.push(server);
      for (const service of [SSM, DYNAMODB]) {
        const client = functionClient(service, { ...lambda, AWS_ENDPOINT_URL: endpoint });
        clients.push(client);
        await client.call('Describe', {});
        const request = received.at(-1)!;
        expect(request.headers.host).to.equal(new URL(endpoint).host);
        expect(request.headers['x-amz-target']).to.equal(`${service.target}.Describe`);
        expect(request.headers['content-type']).to.equal(`application/x-amz-json-${service.jsonVersion}`);
        expect(String(request.headers.authorization)).to.match(new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\\d{8}/${region}/${service.name}/aws4_request, `));
      }
    });
  }

  it('says when an endpoint answers as no AWS service does (another server at that address)', async function () {
    const other = createServer((request, response) => response.writeHead(415, { 'content-type': 'text/plain' }).end('Unsupported Media Type'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    servers.push(other);
    const client = new AwsJsonClient({ service: DYNAMODB, region: 'us-east-1', credentials: CREDENTIALS, endpoint: `http://127.0.0.1:${(other.address() as AddressInfo).port}` });
    clients.push(client);
    const failure = (await client.call('Query', {}).catch((error: unknown) => error)) as AwsError;
    expect([failure.code, failure.statusCode, failure.foreign]).to.deep.equal(['HTTP415', 415, true]);
    const { client: aws } = await start([[400, { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'no table' }]]);
    expect(((await aws.call('Query', {}).catch((error: unknown) => error)) as AwsError).foreign).to.equal(false);
  });

  it('asks a credential provider for the keys of each request', async function () {
    const { endpoint, received, server } = await answering([[200, {}]]);
    servers.push(server);
    let asked = 0;
    const client = new AwsJsonClient({ service: DYNAMODB, region: 'eu-west-1', endpoint, credentials: async () => ({ ...CREDENTIALS, accessKeyId: `AKID${++asked}` }) });
    clients.push(client);
    await client.call('GetItem', {});
    await client.call('GetItem', {});
    expect(received.map((request) => /Credential=(\w+)\//.exec(String(request.headers.authorization))?.[1])).to.deep.equal(['AKID1', 'AKID2']);
  });

  it('reads the credentials Lambda gives, naming a missing variable', function () {
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c' })).to.deep.equal({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 'c' });
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })).to.deep.equal({ accessKeyId: 'a', secretAccessKey: 'b' });
    expect(() => credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a' })).to.throw(ConfigError).with.property('variable', 'AWS_SECRET_ACCESS_KEY');
  });
});
