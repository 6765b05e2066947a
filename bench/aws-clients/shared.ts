import { randomUUID } from 'node:crypto';

/** The table and parameters each contender reaches; the bench sets them up. */
export const TABLE = 'bench-clients';
export const NAMES = ['/bench/token', '/bench/aes-key', '/bench/owner-key'];

/** A ~1 KB event item, fresh each time, in DynamoDB's attribute-value form and as plain values. */
export const PLAIN_ITEM = () => ({ id: randomUUID(), eventType: 'bpms_instance_change', receivedAt: new Date().toISOString(), payload: '审批'.repeat(300) });
export const ITEM = () => Object.fromEntries(Object.entries(PLAIN_ITEM()).map(([name, value]) => [name, { S: value }]));
