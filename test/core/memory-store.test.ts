import { MemoryEventStore } from '../../core/memory-store';
import { describeEventStoreContract } from '../../testkit/store-contract';

describeEventStoreContract('MemoryEventStore', { open: async () => new MemoryEventStore() });
