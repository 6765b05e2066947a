import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { jsonLine } from '../../core/log';
import { terminalSafe } from '../../core/terminal-safe';
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

describe('terminalSafe: what a terminal is shown of pushed text', function () {
  it('escapes exactly the characters the inspector page escapes, so `user_add_org\\u200b` never passes for `user_add_org`', function () {
    const page = readFileSync(join(__dirname, '..', '..', 'inspector', 'page', 'app.js'), 'utf8');
    const hidden = new RegExp(/const HIDDEN = \/(.+)\/g;/.exec(page)![1]!);
    const differ: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      const char = String.fromCharCode(code);
      if ((terminalSafe(char) !== char) !== hidden.test(char)) differ.push(code.toString(16));
    }
    expect(differ).to.deep.equal([]);
    expect(terminalSafe('user_add_org\u200b \ufeff审批')).to.equal('user_add_org\\u200b \\ufeff审批');
  });
});
