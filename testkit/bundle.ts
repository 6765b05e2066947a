import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import AdmZip from 'adm-zip';

/** A file in a deployment zip. */
export interface ZipEntry {
  name: string;
  /** Uncompressed bytes. */
  size: number;
}

/** The files (not folders) of a zip, in stored order. */
export function zipEntries(zipPath: string): ZipEntry[] {
  return new AdmZip(zipPath)
    .getEntries()
    .filter((entry) => !entry.isDirectory)
    .map((entry) => ({ name: entry.entryName, size: entry.header.size }));
}

/** One invocation of a packaged function, as its cloud's runtime makes it. */
export interface Invocation {
  /** The module in the zip, for example `handlers/aws/callback.js`. */
  entry: string;
  /** Its exported function; default `handler`. */
  exportName?: string;
  /** The event, as JSON. */
  event: unknown;
  /** Hand the event over as a Buffer of its JSON (Function Compute's event handlers get one). */
  eventAsBuffer?: boolean;
  /** Hand these bytes over as the event instead (a Tablestore trigger's CBOR). */
  eventBytes?: Uint8Array;
  /** The second argument; plain data only. */
  context?: Record<string, unknown>;
  /** The function's whole environment: nothing of the caller's is passed on but `PATH`. */
  env?: Record<string, string>;
}

/** What a fresh process running a packaged function answered, and when. */
export interface Answer {
  /** The resolved value, or what it passed to its callback; absent when it failed. */
  response?: unknown;
  /** What it threw, rejected with or passed to its callback as an error (the stack, or the message). */
  error?: string;
  /** What the function wrote on stdout (its log lines), and on stderr. */
  stdout: string;
  stderr: string;
  /** The non-empty lines of `stdout`. */
  logs: string[];
  /** Wall-clock milliseconds from spawning `node` to the answer: the cold start, nothing taken off. */
  elapsedMs: number;
  /**
   * Milliseconds since the process started, by its own clock: node booted, the module loaded, the
   * function answered; and the CPU time it had used by then (steadier than the clock on a busy machine).
   */
  timings?: { bootedMs: number; loadedMs: number; answeredMs: number; cpuMs: number };
}

/**
 * Runs in the fresh process: calls the export as a cloud runtime does, promise or callback style,
 * and writes the outcome on fd 3 so the function's own stdout stays its log.
 */
const RUNNER = `
const { readFileSync, writeSync } = require('node:fs');
const input = JSON.parse(readFileSync(0, 'utf8'));
const bootedMs = performance.now();
// Exits once what is queued has run (a warning node emits on the next tick reaches stderr), not
// waiting for the sockets a handler keeps open.
const report = (outcome) => { writeSync(3, JSON.stringify(outcome) + '\\n'); setImmediate(() => process.exit(0)); };
const cpuMs = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
const failure = (error) => String((error && error.stack) || error);
try {
  const handler = require(input.entry)[input.exportName];
  const loadedMs = performance.now();
  const event = input.eventBase64 !== undefined ? Buffer.from(input.eventBase64, 'base64') : input.eventAsBuffer ? Buffer.from(JSON.stringify(input.event)) : input.event;
  new Promise((resolve, reject) => {
    const result = handler(event, input.context, (error, value) => (error ? reject(error) : resolve(value)));
    if (result && typeof result.then === 'function') result.then(resolve, reject);
  }).then(
    (response) => report({ response, timings: { bootedMs, loadedMs, answeredMs: performance.now(), cpuMs: cpuMs() } }),
    (error) => report({ error: failure(error) }),
  );
} catch (error) {
  report({ error: failure(error) });
}
`;

/** A deployment zip unpacked in an empty temporary folder, far from any `node_modules`. */
export class UnpackedBundle {
  private constructor(readonly dir: string) {}

  /** Unpacks `zipPath`; {@link remove} the folder when done. */
  static async from(zipPath: string): Promise<UnpackedBundle> {
    const dir = await mkdtemp(join(tmpdir(), 'bundle-'));
    new AdmZip(zipPath).extractAllTo(dir, true);
    return new UnpackedBundle(dir);
  }

  /**
   * Has a fresh `node` process load the entry and answer one event: a cold start, and proof that
   * the bundle is self-contained.
   * @throws when the process ends without answering, or does not answer within 20 s.
   */
  invoke({ entry, exportName = 'handler', event, eventAsBuffer = false, eventBytes, context = {}, env = {} }: Invocation): Promise<Answer> {
    const eventBase64 = eventBytes && Buffer.from(eventBytes).toString('base64');
    const input = JSON.stringify({ entry: resolve(this.dir, entry), exportName, event, eventAsBuffer, eventBase64, context });
    return runNode(['-e', RUNNER], this.dir, env, input);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Unpacks a deployment zip, invokes it once in a fresh process (see {@link UnpackedBundle.invoke}), and cleans up. */
export async function invokeBundle(zipPath: string, invocation: Invocation): Promise<Answer> {
  const bundle = await UnpackedBundle.from(zipPath);
  try {
    return await bundle.invoke(invocation);
  } finally {
    await bundle.remove();
  }
}

/** A bare `node` starting and answering the same way, with nothing to load: the baseline of a cold start. */
export function bareNodeStart(): Promise<Answer> {
  const script = `const now = performance.now(), { user, system } = process.cpuUsage();
require('node:fs').writeSync(3, JSON.stringify({ response: null, timings: { bootedMs: now, loadedMs: now, answeredMs: now, cpuMs: (user + system) / 1000 } }) + '\\n');`;
  return runNode(['-e', script], tmpdir(), {}, '');
}

async function runNode(args: string[], cwd: string, env: Record<string, string>, input: string): Promise<Answer> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const streams = { stdout: '', stderr: '', outcome: '' };
  let answeredAt = 0;
  child.stdout.on('data', (chunk: Buffer) => (streams.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (streams.stderr += chunk.toString('utf8')));
  child.stdio[3]?.on('data', (chunk: Buffer) => {
    streams.outcome += chunk.toString('utf8');
    if (streams.outcome.endsWith('\n')) answeredAt ||= performance.now();
  });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill(), 20_000);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearTimeout(timer);
  if (!answeredAt) throw new Error(`node ended without answering (exit ${code}): ${streams.stderr}`);
  const outcome = JSON.parse(streams.outcome) as Pick<Answer, 'response' | 'error' | 'timings'>;
  const logs = streams.stdout.split('\n').filter((line) => line !== '');
  return { ...outcome, stdout: streams.stdout, stderr: streams.stderr, logs, elapsedMs: answeredAt - started };
}
