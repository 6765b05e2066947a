import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback } from './ports';

/** One call the endpoint received: the `X-Amz-Target` (for example `AWSEvents.PutEvents`) and its JSON input. */
export interface AwsCall {
  target: string;
  input: Record<string, unknown>;
}

/** A local endpoint speaking the AWS JSON protocol for the calls the forward function makes. */
export interface AwsJsonEndpoint {
  url: string;
  calls: AwsCall[];
  close(): Promise<void>;
}

/**
 * Records `PutEvents` (EventBridge) and `SendMessage` (SQS) calls made by the real SDK clients and
 * answers as the services document: every entry accepted, or, for targets in `failing`, a 500
 * `InternalFailure` (which the SDK retries, then throws).
 */
export async function startAwsJsonEndpoint(failing: ReadonlySet<string> = new Set()): Promise<AwsJsonEndpoint> {
  const calls: AwsCall[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    calls.push({ target, input });
    const reply = (status: number, body: object) => response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
    if (failing.has(target)) return reply(500, { __type: 'InternalFailure', message: 'failing on purpose' });
    if (target === 'AWSEvents.PutEvents') {
      const entries = (input.Entries as unknown[]) ?? [];
      return reply(200, { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) });
    }
    if (target === 'AmazonSQS.SendMessage') {
      return reply(200, { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(String(input.MessageBody)).digest('hex') });
    }
    return reply(400, { __type: 'UnknownOperationException', message: target });
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    calls,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
