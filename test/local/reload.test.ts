import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { forgetBundles } from '../../providers/local/offline-plugin';

/** CommonJS loading, as serverless-offline's in-process runner loads the handler. */
const load = createRequire(__filename);

describe('npm start: code reload with the function in-process', function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'reload-'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('forgets the bundles loaded from serverless-esbuild’s folder, so the rebuilt one loads at the next require, and nothing else', async function () {
    const bundle = join(dir, '.esbuild', '.build', 'handlers', 'aws', 'callback.js');
    const neighbour = join(dir, 'elsewhere.js');
    await mkdir(join(dir, '.esbuild', '.build', 'handlers', 'aws'), { recursive: true });
    await writeFile(bundle, 'module.exports = 1;');
    await writeFile(neighbour, 'module.exports = 1;');
    expect([load(bundle), load(neighbour)]).to.deep.equal([1, 1]);
    await writeFile(bundle, 'module.exports = 2;');
    await writeFile(neighbour, 'module.exports = 2;');
    expect(load(bundle), 'cached until forgotten').to.equal(1);
    forgetBundles(join(dir, '.esbuild'));
    expect([load(bundle), load(neighbour)]).to.deep.equal([2, 1]);
  });
});
