import { expect } from 'chai';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from './repo';

/**
 * Each floor's import rule of eslint.config.mjs (docs/architecture.md, "Floors"), run through ESLint's
 * own API on a one-line file placed on that floor: a wrong import is an error, a right one is not.
 */
const CASES: ReadonlyArray<{ file: string; wrong: string[]; right: string[] }> = [
  { file: 'core/example.ts', wrong: ['../providers/aws/settings', 'tablestore'], right: ['node:crypto', './events'] },
  {
    file: 'handlers/aws/example.ts',
    wrong: ['../../providers/aliyun/setup', '../../deploy/aws/own-role-streams', '@aws-sdk/client-sqs', '../../testkit/fixtures', './callback', '../../cli/main'],
    right: ['../../core/callback', '../../providers/aws/setup', 'node:util'],
  },
  {
    file: 'handlers/aliyun/example.ts',
    wrong: ['../../providers/aws/setup', '../../deploy/aliyun/fc-triggers', 'tablestore', './callback'],
    right: ['../../core/callback', '../../providers/aliyun/function-compute'],
  },
  { file: 'providers/aws/example.ts', wrong: ['../../deploy/aws/own-role-streams', '../aliyun/tablestore-client', '../../testkit/fixtures', '../../handlers/aws/callback', '@aws-sdk/client-sqs'], right: ['../../core/events', './aws-json-client', 'aws4'] },
  { file: 'providers/aliyun/example.ts', wrong: ['../../deploy/aliyun/tablestore-tables', '../aws/dynamodb-item', '../../testkit/tablestore-server'], right: ['../../core/events', './tablestore-client', 'tablestore'] },
  { file: 'providers/local/example.ts', wrong: ['../../deploy/aws/own-role-streams', '../aliyun/tablestore-client', '../../testkit/dynamodb', '@aws-sdk/client-dynamodb'], right: ['../aws/dynamodb-store', '../../core/events'] },
  { file: 'cli/example.ts', wrong: ['../deploy/aliyun/tablestore-tables', '../testkit/fake-dingtalk', '../handlers/aws/callback', '@aws-sdk/client-eventbridge'], right: ['../providers/aliyun/tablestore-store', '../providers/aws/setup', '../core/events', '@aws-sdk/credential-provider-node'] },
  { file: 'inspector/example.ts', wrong: ['../providers/local/local-dynamodb', '../providers/aws/setup', '../cli/forward', '../testkit/inspector', '../handlers/aws/forward', 'ws'], right: ['../core/listing', '../cli/deliver', '../cli/event-payloads', './deliveries', 'node:http'] },
  { file: 'deploy/aws/example.ts', wrong: ['../aliyun/ram-roles', '../../providers/aliyun/tablestore-client', '../../testkit/fixtures'], right: ['../../providers/aws/settings', '../../core/environment'] },
  { file: 'deploy/aliyun/example.ts', wrong: ['../aws/own-role-streams', '../../providers/aws/settings', '../../testkit/fixtures'], right: ['../../providers/aliyun/tablestore-client', './ram-roles', 'esbuild'] },
];

describe('the floors (eslint.config.mjs): each rule bites a wrong import', function () {
  this.timeout(60_000);
  let eslint: ESLint;
  before(function () {
    eslint = new ESLint({ cwd: ROOT, overrideConfigFile: join(ROOT, 'eslint.config.mjs') });
  });

  const restricted = async (file: string, from: string) => {
    const [result] = await eslint.lintText(`import '${from}';\n`, { filePath: join(ROOT, file) });
    return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
  };

  for (const { file, wrong, right } of CASES) {
    it(`${file.split('/').slice(0, -1).join('/')}/: refuses ${wrong.join(', ')}; allows ${right.join(', ')}`, async function () {
      for (const from of wrong) expect(await restricted(file, from), `${file} importing ${from}`).to.have.length(1);
      for (const from of right) expect(await restricted(file, from), `${file} importing ${from}`).to.deep.equal([]);
    });
  }

  it("keeps the inspector's page to text: no HTML from strings", async function () {
    const [clean] = await eslint.lintText(`'use strict';\ndocument.body.textContent = location.hash;\n`, { filePath: join(ROOT, 'inspector/page/example.js') });
    expect(clean!.messages).to.deep.equal([]);
    for (const sink of ['node.innerHTML = text;', 'node.outerHTML = text;', "node.insertAdjacentHTML('beforeend', text);", 'document.write(text);']) {
      const [result] = await eslint.lintText(`'use strict';\nconst node = document.body;\nconst text = location.hash;\n${sink}\n`, { filePath: join(ROOT, 'inspector/page/example.js') });
      expect(result!.messages.filter((message) => message.ruleId === 'no-restricted-properties'), sink).to.have.length(1);
    }
  });

  it('leaves tests, bench and testkit free to import anything', async function () {
    for (const file of ['test/example.test.ts', 'bench/example.ts', 'testkit/example.ts']) {
      for (const from of ['../deploy/aliyun/tablestore-tables', '../testkit/fixtures', '../handlers/aws/callback']) expect(await restricted(file, from), `${file} importing ${from}`).to.deep.equal([]);
    }
  });
});
