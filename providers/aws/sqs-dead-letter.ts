import type { DeadLetter, DeadLetterEntry } from '../../core/forward';
import type { AwsJsonClient } from './aws-json-client';

/** What the forward function puts in the queue for a record no retry delivered (docs/forward.md). */
export interface DeadLetterMessage extends DeadLetterEntry {
  kind: 'dingtalk-forward-dead-letter';
}

/**
 * The dead-letter queue of the forward function: the queue the stack creates, which is also the
 * stream's on-failure destination. Each message names the event, never carries its payload: the
 * record stays in the table, and `dingtalk-callback forward` re-sends it from there. `client`: an
 * `SQS` client (SQS's JSON protocol).
 */
export function sqsDeadLetter({ client, queueUrl }: { client: AwsJsonClient; queueUrl: string }): DeadLetter {
  return {
    async put(entry) {
      const message: DeadLetterMessage = { kind: 'dingtalk-forward-dead-letter', ...entry };
      await client.call('SendMessage', { QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }, AbortSignal.timeout(5000));
    },
  };
}
