import type { PushLog } from '../core/log';

/** Everything a piece of code printed, and the per-push log lines among it. */
export interface Captured<T> {
  result: T;
  /** stdout and stderr, interleaved as written. */
  output: string;
  /** The JSON lines of `msg: "push"`, parsed. */
  pushLogs: PushLog[];
}

/**
 * Runs `work` with this process's stdout and stderr captured (and kept off the terminal), so that
 * whatever reaches them on any path, the JSON logger's lines, an SDK's warning or a stray
 * `console.log`, can be examined.
 */
export async function captureOutput<T>(work: () => Promise<T>): Promise<Captured<T>> {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((arg): arg is () => void => typeof arg === 'function');
      done?.();
      return true;
    }) as typeof stream.write;
  }
  let result: T;
  try {
    result = await work();
  } finally {
    streams.forEach((stream, i) => (stream.write = writes[i]!));
  }
  const output = chunks.join('');
  return { result, output, pushLogs: pushLogLines(output) };
}

/** The per-push JSON lines in `output` (any other line is left out). */
export function pushLogLines(output: string): PushLog[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"msg":"push"'))
    .map((line) => JSON.parse(line) as PushLog);
}
