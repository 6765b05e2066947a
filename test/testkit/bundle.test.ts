import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { expect } from 'chai';
import { invokeBundle } from '../../testkit/bundle';

describe('testkit/bundle: a bundle invoked in a fresh node', function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'bundle-runner-'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** A zip holding `handler.js` with `source`. */
  function zipOf(source: string): string {
    const zip = new AdmZip();
    zip.addFile('handler.js', Buffer.from(source));
    const path = join(dir, 'bundle.zip');
    zip.writeZip(path);
    return path;
  }

  it('hands back what node printed on stderr up to the answer, a warning emitted as it answers included', async function () {
    // Buffer() inside a promise job: node prints the DeprecationWarning on a later tick than the answer.
    const zip = zipOf("exports.handler = (event, context, done) => { Promise.resolve().then(() => { Buffer(4); done(null, 'ok'); }); };");
    const answer = await invokeBundle(zip, { entry: 'handler.js', event: {} });
    expect(answer.response).to.equal('ok');
    expect(answer.stderr).to.contain('[DEP0005] DeprecationWarning');
  });

  it('answers without waiting for what the handler leaves open', async function () {
    const zip = zipOf("exports.handler = async () => { setInterval(() => {}, 1000); return { statusCode: 200 }; };");
    const answer = await invokeBundle(zip, { entry: 'handler.js', event: {} });
    expect(answer.response).to.deep.equal({ statusCode: 200 });
    expect(answer.stderr).to.equal('');
  });
});
