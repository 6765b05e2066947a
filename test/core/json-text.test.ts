import { expect } from 'chai';
import { keysNamedTwice, recordJson, reindentJson } from '../../core/json-text';

describe('core/json-text', function () {
  const text = '\uFEFF{"id":12345678901234567890123,"empty":{},"none":[],"s":"a, b: {\\"c\\"} ]","list":[1,-2.5e3,true,null,{"k":"钉 🏖️"}]}';

  it('re-indents JSON with every number and string exactly as written', function () {
    const out = reindentJson(text);
    expect(out).to.include('"id": 12345678901234567890123').and.include('-2.5e3').and.include('"a, b: {\\"c\\"} ]"');
    expect(out.split('\n')[1]).to.equal('  "id": 12345678901234567890123,');
    expect(JSON.parse(out)).to.deep.equal(JSON.parse(text.slice(1)));
    expect(reindentJson('{"a":{"b":[]}}')).to.equal('{\n  "a": {\n    "b": []\n  }\n}');
  });

  it('refuses text that is not JSON', function () {
    expect(() => reindentJson('{"a":')).to.throw(SyntaxError);
  });

  it('prints a record with its payload as JSON, and a payload that is no JSON as a string', function () {
    const json = recordJson({ id: 'x', payload: text });
    expect(JSON.parse(json)).to.deep.equal({ id: 'x', payload: JSON.parse(text.slice(1)) });
    expect(json).to.include('"id": 12345678901234567890123');
    expect(JSON.parse(recordJson({ id: 'y', payload: 'not json' }))).to.deep.equal({ id: 'y', payload: 'not json' });
  });

  it('names the top-level keys named twice, however spelled, and no key nested or inside a string', function () {
    const names = ['EventType', 'eventId'];
    expect(keysNamedTwice('{"EventType":"a","EventType":"b"}', names)).to.deep.equal(['EventType']);
    expect(keysNamedTwice('{"EventType":"a","Event\\u0054ype":"b","eventId":"x"}', names)).to.deep.equal(['EventType']);
    expect(keysNamedTwice('{ "eventId" : 1, "EventType":"a", "eventId"\n:2}', names)).to.deep.equal(['eventId']);
    expect(keysNamedTwice('{"EventType":"a","x":{"EventType":"b"},"y":[{"eventId":1},{"eventId":2}],"eventId":"e"}', names)).to.deep.equal([]);
    expect(keysNamedTwice('{"EventType":"a","s":"\\"EventType\\": \\"b\\"","eventId":"\\"eventId\\":"}', names)).to.deep.equal([]);
  });
});
