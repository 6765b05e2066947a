import { MemoryEventStore } from '../../core/memory-store';
import { describeEventStoreContract } from '../support/store-contract';

describeEventStoreContract('MemoryEventStore', { open: async () => new MemoryEventStore() });
