import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterEntry } from '../../core/forward';

/** What the forward function puts in the queue for a record no retry delivered (docs/forward.md). */
export interface DeadLetterMessage extends DeadLetterEntry {
  kind: 'dingtalk-forward-dead-letter';
}

/**
 * The dead-letter queue of the forward function: the queue the stack creates, which is also the
 * stream's on-failure destination. Each message names the event, never carries its payload: the
 * record stays in the table, and `dingtalk-callback forward` re-sends it from there.
 */
export function sqsDeadLetter({ client, queueUrl }: { client: SQSClient; queueUrl: string }): DeadLetter {
  return {
    async put(entry) {
      const message: DeadLetterMessage = { kind: 'dingtalk-forward-dead-letter', ...entry };
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }), { abortSignal: AbortSignal.timeout(5000) });
    },
  };
}
