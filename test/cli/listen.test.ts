import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME } from '../../providers/local/local-dynamodb';
import { CLEAN_ENV, runCli, type CliRun } from '../../testkit/cli';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { gatewayEnv } from '../../testkit/stream-relay-harness';

describe('dingtalk-callback listen, against a fake Stream gateway and the local store', function () {
  let dynamo: TestDynamoDb;
  let store: DynamoDbEventStore;
  let gateway: FakeStreamGateway;
  let base: string;

  before(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    store = new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client: dynamo.client });
  });
  after(async function () {
    dynamo.client.destroy();
    await dynamo.server.close();
  });
  beforeEach(async function () {
    gateway = new FakeStreamGateway();
    base = await gateway.start();
  });
  afterEach(async function () {
    await gateway.close();
  });

  const listen = (env: Record<string, string>, extra: string[] = []): Promise<CliRun> => runCli(['listen', '--endpoint', dynamo.endpoint, ...extra], { env: { ...CLEAN_ENV, ...env } });

  it('stores each event, prints a line for it (escaped), and on Ctrl-C acks what is in hand and exits 0', async function () {
    const run = listen(gatewayEnv(gateway, base));
    await gateway.until(() => gateway.open.length === 1, 10_000, 'listen to connect');
    gateway.push({ eventType: 'user_add_org', eventId: 'listen-1', data: JSON.stringify({ userId: ['u1'] }) });
    gateway.push({ eventType: 'user_add_org', eventId: 'listen-1', data: JSON.stringify({ userId: ['u1'] }) });
    gateway.push({ eventType: 'evil\u001b[2Jtype', eventId: 'listen-2', data: '{}' });
    await gateway.until(() => gateway.acksWith('SUCCESS').length === 3, 10_000, 'three acks');
    process.emit('SIGINT');
    const { status, stdout, stderr } = await run;
    expect(status, stderr).to.equal(0);
    const lines = stdout.trim().split('\n');
    expect(lines).to.have.length(3);
    expect(lines.filter((line) => line.includes('user_add_org') && line.endsWith('stored'))).to.have.length(1);
    expect(lines.filter((line) => line.includes('duplicate'))).to.have.length(1);
    expect(stdout).to.include('evil\\u001b[2Jtype').and.not.include('\u001b');
    expect(stderr).to.match(/stopped: 2 stored, 1 duplicate/);
    expect(process.listenerCount('SIGINT')).to.equal(0);
    expect(await store.get(`${gateway.clientId}:event:user_add_org:listen-1`)).to.include({ source: 'stream' });
    await gateway.until(() => gateway.open.length === 0, 5000, 'the socket closed');
  });

  it('as the installed command: a real SIGINT stops it, the socket closes and the process exits 0', async function () {
    this.timeout(30_000);
    gateway.redeliverAfterMs = 20_000;
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'bin', 'dingtalk-callback.cjs'), 'listen', '--endpoint', dynamo.endpoint], { env: { ...CLEAN_ENV, ...gatewayEnv(gateway, base) } });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await gateway.until(() => gateway.open.length === 1, 20_000, 'listen to connect');
    gateway.push({ eventType: 'user_add_org', eventId: 'bin-1', data: '{}' });
    await gateway.until(() => gateway.acksWith('SUCCESS').length === 1, 10_000, 'the ack');
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(stdout).to.match(/user_add_org .*:event:user_add_org:bin-1 {2}stored\n$/);
    await gateway.until(() => gateway.open.length === 0, 5000, 'the socket closed');
  });

  it('says in one line which setting DingTalk refused, never the secret, and exits 2 without retrying', async function () {
    const { status, stdout, stderr } = await listen({ ...gatewayEnv(gateway, base), DINGTALK_APP_SECRET: 'not-the-secret-91ab' });
    expect(status).to.equal(2);
    expect(stderr).to.match(/^dingtalk-callback listen: DINGTALK_APP_SECRET: DingTalk refused the credentials \(connections\/open: HTTP 401/m);
    expect(stdout + stderr).not.to.include('not-the-secret-91ab');
    expect(gateway.opens).to.equal(1);
  });

  it('names the missing settings, and says when nothing answers where the store should be', async function () {
    const missing = await runCli(['listen', '--endpoint', dynamo.endpoint], { env: CLEAN_ENV });
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.include('DINGTALK_APP_KEY: is not set; DINGTALK_APP_SECRET: is not set');
    expect(missing.stderr, 'the sandbox has no Stream gateway').to.not.include('DINGTALK_SANDBOX');
    const nowhere = await runCli(['listen', '--endpoint', 'http://127.0.0.1:9'], { env: { ...CLEAN_ENV, ...gatewayEnv(gateway, base) } });
    expect(nowhere.status).to.equal(1);
    expect(nowhere.stderr).to.include('nothing answered at http://127.0.0.1:9');
    expect(gateway.opens).to.equal(0);
  });

  it('has a --help that names the settings and the store options', async function () {
    const { status, stdout } = await runCli(['listen', '--help']);
    expect(status).to.equal(0);
    expect(stdout).to.include('DINGTALK_APP_SECRET').and.include('--aws --table').and.include('Ctrl-C');
  });
});
