import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';

/** The stand-in of the forward function's SQS dead-letter queue under `npm start`. */
export interface LocalDeadLetterQueue {
  /** The queue URL to give the function: its SQS client sends there. */
  queueUrl: string;
  /** Where each message is appended, one JSON line each. */
  file: string;
  /** Appends a message directly (the local stream's on-failure records). */
  append(message: object): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves SQS's `SendMessage` (JSON protocol) on a loopback port and appends each message body to
 * `file` as one line, so the forward function runs its real SQS client under `npm start`;
 * `onMessage` hears each body once appended.
 */
export async function startLocalDeadLetterQueue(file: string, onMessage: (body: string) => void = () => {}): Promise<LocalDeadLetterQueue> {
  await mkdir(dirname(file), { recursive: true });
  const append = (line: string) => appendFile(file, `${line}\n`);
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const reply = (status: number, body: object) => response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
    if (request.headers['x-amz-target'] !== 'AmazonSQS.SendMessage') return reply(400, { __type: 'UnsupportedOperation', message: 'only SendMessage is served here' });
    const { MessageBody } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { MessageBody: string };
    await append(MessageBody.replace(/\n/g, ' '));
    onMessage(MessageBody);
    reply(200, { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(MessageBody).digest('hex') });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    queueUrl: `http://127.0.0.1:${port}/000000000000/forward-dead-letters`,
    file,
    append: (message) => append(JSON.stringify(message)),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
