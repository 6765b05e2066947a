import { expect } from 'chai';
import { jsonLine } from '../../core/log';
import { captureOutput } from '../../testkit/capture-output';

describe('jsonLine: the functions\' log lines', function () {
  it('writes one JSON line in which a pushed event type can neither reorder nor drive the terminal, the same string when parsed', async function () {
    // What a push can carry in its EventType: a bidirectional override, the line separator, a C1 CSI, DEL.
    const eventType = 'evil\u202etxt.exe\u2028\u009b2J\u007f\u2066';
    const { output } = await captureOutput(async () => jsonLine({ msg: 'push', eventType }));
    expect(output.endsWith('\n')).to.equal(true);
    expect(output.slice(0, -1)).to.match(/^[\x20-\x7e]*$/);
    expect(output).to.include('evil\\u202etxt.exe\\u2028\\u009b2J\\u007f\\u2066');
    expect(JSON.parse(output)).to.deep.equal({ msg: 'push', eventType });
  });
});
