import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLocalStream } from '../../providers/local/local-stream';

type Invoked = { Records: Array<{ dynamodb: { NewImage: { id: { S: string } } } }> };

describe('npm start\'s local stream: what a kill left unforwarded is replayed at the next start', function () {
  let dir: string;
  let journal: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'local-stream-'));
    journal = join(dir, 'forward-pending.jsonl');
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });
  const image = (id: string) => ({ id: { S: id }, payload: { S: `{"EventType":"user_add_org","n":"${id}"}` } });
  /** A stream whose forward function answers while `answering` says so, and hangs after (the process is then "killed"). */
  const stream = (answering: () => boolean, seen: string[]) =>
    createLocalStream({
      tableName: 'events',
      journal,
      batchSize: 2,
      retryDelayMs: 1,
      onFailure: async () => {},
      invoke: async (event) => {
        if (!answering()) return new Promise(() => {});
        for (const entry of (event as Invoked).Records) seen.push(entry.dynamodb.NewImage.id.S);
        return { batchItemFailures: [] };
      },
    });

  it('replays, in order, the records a killed run had taken in but not handled, and only those', async function () {
    const first: string[] = [];
    let up = true;
    const killed = stream(() => up, first);
    for (const id of ['a', 'b']) killed.insert(image(id));
    await killed.drained();
    up = false;
    for (const id of ['c', 'd', 'e']) killed.insert(image(id));
    await new Promise((resolve) => setImmediate(resolve));
    // The process dies here: its batch of c and d is in flight, e waits.
    appendFileSync(journal, '{"image":{"id":{"S":"cut-sh');
    expect(first).to.deep.equal(['a', 'b']);

    const replayed: string[] = [];
    const next = stream(() => true, replayed);
    expect(next.leftOver).to.equal(3);
    next.replay();
    await next.drained();
    expect(replayed).to.deep.equal(['c', 'd', 'e']);
    expect(readFileSync(journal, 'utf8'), 'nothing pending, nothing kept').to.equal('');
    expect(stream(() => true, []).leftOver).to.equal(0);
  });

  it('waits for replay() (the forward function is not up yet) unless a new record comes first', async function () {
    const first: string[] = [];
    const killed = stream(() => false, first);
    killed.insert(image('x'));
    const later: string[] = [];
    const next = stream(() => true, later);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(later).to.deep.equal([]);
    next.insert(image('y'));
    await next.drained();
    expect(later).to.deep.equal(['x', 'y']);
  });
});
