import { expect } from 'chai';
import { decodeListKey, encodeListKey } from '../../core/listing';
import { MemoryEventStore } from '../../core/memory-store';
import { describeEventStoreContract } from '../../testkit/store-contract';

describeEventStoreContract('MemoryEventStore', { open: async () => new MemoryEventStore() });

describe('the list key', function () {
  it('splits back into the time and the id it was made of, an id holding # included; a bare time has no id', function () {
    const record = { receivedAt: '2026-11-27T08:00:00.000Z', id: 'ding%23x:event:a#b:1' };
    expect(encodeListKey(record)).to.equal('2026-11-27T08:00:00.000Z#ding%23x:event:a#b:1');
    expect(decodeListKey(encodeListKey(record))).to.deep.equal(record);
    expect(decodeListKey('2026-11-27T08:00:00.000Z')).to.deep.equal({ receivedAt: '2026-11-27T08:00:00.000Z' });
  });
});
