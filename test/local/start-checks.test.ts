import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startDynamoDbServer } from '../../providers/local/dynamodb-server';
import { preflight, startOptions } from '../../providers/local/start-checks';
import { freePort } from '../../testkit/ports';

// What npm start refuses before serverless loads (start.cjs) and again in its plugin: the same code.
describe('npm start: the checks before anything starts', function () {
  let dataDir: string;
  let taken: Server;
  let takenPort: number;
  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'start-checks-'));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as AddressInfo).port;
  });
  after(async function () {
    taken.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** npm start's arguments with every port free but `ports`. */
  async function args(ports: Record<string, number> = {}): Promise<string[]> {
    const all = { httpPort: await freePort(), lambdaPort: await freePort(), dynamodbPort: await freePort(), inspectorPort: await freePort(), dingtalkPort: await freePort(), ...ports };
    return [...Object.entries(all).flatMap(([name, port]) => [`--${name}`, String(port)]), '--dataDir', dataDir];
  }

  it('reads the options as serverless does: --name value and --name=value, and no flag as a value', function () {
    expect(startOptions(['--httpPort', '3100', '--dataDir=/tmp/a=b', '--lambdaPort', '--verbose', '--host'])).to.deep.equal({ httpPort: '3100', dataDir: '/tmp/a=b' });
  });

  it('lets a start with free ports and a free folder through', async function () {
    expect(await preflight(await args(), {}, dataDir)).to.equal(undefined);
  });

  it("names the DingTalk sandbox's port only when the sandbox runs", async function () {
    const argv = await args({ dingtalkPort: takenPort });
    expect(await preflight(argv, {}, dataDir)).to.equal(undefined);
    const refusal = await preflight(argv, { DINGTALK_SANDBOX: 'true' }, dataDir);
    expect(refusal?.message).to.equal(`port ${takenPort} is in use: choose another with --dingtalkPort`);
    expect(refusal?.code).to.equal('PORT_IN_USE');
  });

  it('names the folder another npm start holds, with the taken ports, in one message', async function () {
    const first = await startDynamoDbServer({ port: 0, dataDir });
    try {
      const refusal = await preflight(await args({ inspectorPort: takenPort }), {}, dataDir);
      expect(refusal?.message).to.equal(`port ${takenPort} is in use: choose another with --inspectorPort; the data folder ${dataDir} is in use by another npm start: stop that one, or choose another folder with --dataDir`);
      expect(refusal?.code).to.equal('DATA_DIR_IN_USE');
    } finally {
      await first.close();
    }
  });

  it('names a bad setting before the ports, and what else to do', async function () {
    const refusal = await preflight(await args({ httpPort: takenPort }), { DINGTALK_FORWARD_URL: 'not a url' }, dataDir);
    expect(refusal?.code).to.equal('DINGTALK_FORWARD_SETTINGS');
    expect(refusal?.message).to.equal('DINGTALK_FORWARD_URL: is not a URL');
    const stream = await preflight(await args(), { DINGTALK_APP_KEY: 'dingappkey', DINGTALK_APP_SECRET: 'secret', DINGTALK_OPENAPI_ENDPOINT: 'http://example.com' }, dataDir);
    expect(stream?.code).to.equal('DINGTALK_STREAM_SETTINGS');
    expect(stream?.message).to.match(/^DINGTALK_OPENAPI_ENDPOINT: .* \(or set DINGTALK_STREAM_ENABLED=false, and the Stream relay does not run\)$/);
  });
});
