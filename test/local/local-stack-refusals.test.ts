import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { startDynamoDbServer } from '../../providers/local/dynamodb-server';
import { startLocalStack } from '../../testkit/local-stack';

// Each refusal comes from the checks start.cjs makes before serverless loads (test/local/start-checks.test.ts
// has the rest of them), so these cost a fraction of a second each.
describe('npm start: the local stack, refusing to start', function () {
  this.timeout(120_000);
  let dataDir: string;
  beforeEach(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'local-stack-'));
  });
  afterEach(async function () {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('in one line before anything else, naming every port taken and the data folder another npm start holds', async function () {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, 'localhost', resolve));
    const httpPort = (taken.address() as AddressInfo).port;
    // What a first npm start holds: its store's port and its data folder.
    const first = await startDynamoDbServer({ port: 0, dataDir });
    try {
      const failure = (await startLocalStack(dataDir, {}, { httpPort, dynamodbPort: first.port }).catch((error: unknown) => error)) as Error;
      expect(failure.message).to.match(new RegExp(`^npm start did not come up:\\n[^]*ports ${httpPort} and ${first.port} are in use: choose others with --httpPort and --dynamodbPort; the data folder \\S+ is in use by another npm start: stop that one, or choose another folder with --dataDir`));
      expect(failure.message).not.to.match(/POST \|/); // the route table serverless-offline prints once it runs
      expect(failure.message).not.to.include('DingTalk push URL');
      expect(failure.message).not.to.include('Database is closed');
      expect(failure.message).not.to.include('Environment: '); // the footer of serverless's own errors: it never loaded
    } finally {
      taken.close();
      await first.close();
    }
  });

  it('on a bad DINGTALK_* variable, naming it', async function () {
    const failure = await startLocalStack(dataDir, { DINGTALK_TOKEN: 'mine', DINGTALK_AES_KEY: 'too-short', DINGTALK_OWNER_KEY: 'dingmine' }).catch((error: unknown) => error);
    expect((failure as Error).message).to.include('DINGTALK_AES_KEY: must be exactly 43');
    expect((failure as Error).message).not.to.include(DEV_CREDENTIALS.DINGTALK_TOKEN);
    const halfAnApp = await startLocalStack(dataDir, { DINGTALK_APP_KEY: 'dingappkey' }).catch((error: unknown) => error);
    expect((halfAnApp as Error).message).to.include('DINGTALK_APP_SECRET: is not set (or set none of DINGTALK_APP_KEY');
    expect((halfAnApp as Error).message).not.to.include('Environment: ');
  });
});
