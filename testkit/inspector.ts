import { request } from 'node:http';
import { CROSS_ORIGIN_MESSAGE } from '../inspector/server';

/** A string only the inspector's server holds: no function's bundle may contain it. */
export const INSPECTOR_MARKER = CROSS_ORIGIN_MESSAGE;

/** An answer of the inspector, as {@link call} read it. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any -- each test reads the fields it checks
}

/** A request as any client may send it, every header as given (fetch would set Host and Sec-Fetch-* itself). */
export function call(url: string, { method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode!, headers: response.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A page's event stream, open: the server has registered it once this resolves (its headers came). */
export async function openEventStream(url: string): Promise<{ take: (count: number) => Promise<Array<{ event: string; id: string }>>; close: () => Promise<void> }> {
  const response = await fetch(`${url}api/stream`, { headers: { 'sec-fetch-site': 'same-origin' } });
  const reader = response.body!.getReader();
  let text = '';
  return {
    /** The next `count` events it carries. */
    async take(count) {
      const events: Array<{ event: string; id: string }> = [];
      while (events.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, id: JSON.parse(data).id });
        }
      }
      return events;
    },
    close: () => reader.cancel(),
  };
}
