import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import JSZip from 'jszip';

/** A file in a deployment zip. */
export interface ZipEntry {
  name: string;
  /** Uncompressed bytes. */
  size: number;
}

/** The files (not folders) of a zip, in stored order. */
export async function zipEntries(zipPath: string): Promise<ZipEntry[]> {
  const zip = await JSZip.loadAsync(await readFile(zipPath));
  const files = Object.values(zip.files).filter((file) => !file.dir);
  return Promise.all(files.map(async (file) => ({ name: file.name, size: (await file.async('nodebuffer')).length })));
}

/** One invocation of a packaged function. */
export interface BundleInvocation {
  /** The deployment zip. */
  zipPath: string;
  /** The module in the zip, for example `handlers/aws.js`. */
  entry: string;
  /** Its exported function, for example `handler`. */
  exportName: string;
  /** The event, as JSON. */
  event: unknown;
  /** Hand the event over as a Buffer of its JSON (Function Compute's event handlers get one). */
  eventAsBuffer?: boolean;
  /** The second argument; plain data only. */
  context?: Record<string, unknown>;
  /** The function's whole environment: nothing of the test process's is passed on but `PATH`. */
  env?: Record<string, string>;
}

/** What the function answered, and when. */
export interface BundleAnswer {
  /** The resolved value, or what it passed to its callback. */
  response: unknown;
  /** What the function wrote (its log lines). */
  stdout: string;
  stderr: string;
  /** Milliseconds since the process started: when node had booted, when the module was loaded, and when it answered. */
  timings: { bootedMs: number; loadedMs: number; answeredMs: number };
}

/**
 * Runs in the fresh process: calls the export as a cloud runtime does, promise or callback style,
 * and writes the outcome on fd 3 so the function's own stdout stays its log.
 */
const RUNNER = `
const { readFileSync, writeSync } = require('node:fs');
const input = JSON.parse(readFileSync(0, 'utf8'));
const bootedMs = performance.now();
const report = (outcome) => { writeSync(3, JSON.stringify(outcome)); process.exit(0); };
try {
  const handler = require(require('node:path').resolve(input.entry))[input.exportName];
  const loadedMs = performance.now();
  const event = input.eventAsBuffer ? Buffer.from(JSON.stringify(input.event)) : input.event;
  new Promise((resolve, reject) => {
    const result = handler(event, input.context, (error, value) => (error ? reject(error) : resolve(value)));
    if (result && typeof result.then === 'function') result.then(resolve, reject);
  }).then(
    (response) => report({ response, timings: { bootedMs, loadedMs, answeredMs: performance.now() } }),
    (error) => report({ error: String((error && error.stack) || error) }),
  );
} catch (error) {
  report({ error: String((error && error.stack) || error) });
}
`;

/**
 * Unpacks a deployment zip into an empty temporary folder, far from any `node_modules`, and has a
 * fresh `node` process load the entry and answer one event: proof that the bundle is self-contained.
 * @throws when the function throws, rejects, or does not answer within 20 s.
 */
export async function invokeBundle(invocation: BundleInvocation): Promise<BundleAnswer> {
  const dir = await mkdtemp(join(tmpdir(), 'bundle-'));
  try {
    const zip = await JSZip.loadAsync(await readFile(invocation.zipPath));
    for (const file of Object.values(zip.files)) {
      if (file.dir) continue;
      await mkdir(dirname(join(dir, file.name)), { recursive: true });
      await writeFile(join(dir, file.name), await file.async('nodebuffer'));
    }
    return await runNode(dir, invocation);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runNode(dir: string, invocation: BundleInvocation): Promise<BundleAnswer> {
  const { entry, exportName, event, eventAsBuffer = false, context = {}, env = {} } = invocation;
  const child = spawn(process.execPath, ['-e', RUNNER], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const streams = { stdout: '', stderr: '', outcome: '' };
  child.stdout.on('data', (chunk: Buffer) => (streams.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (streams.stderr += chunk.toString('utf8')));
  child.stdio[3]?.on('data', (chunk: Buffer) => (streams.outcome += chunk.toString('utf8')));
  child.stdin.end(JSON.stringify({ entry, exportName, event, eventAsBuffer, context }));
  const timer = setTimeout(() => child.kill(), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (!streams.outcome) throw new Error(`the bundle did not answer (exit ${code}): ${streams.stderr}`);
  const outcome = JSON.parse(streams.outcome) as { response?: unknown; error?: string; timings?: BundleAnswer['timings'] };
  if (outcome.error !== undefined || !outcome.timings) throw new Error(`the bundle failed: ${outcome.error}`);
  return { response: outcome.response, stdout: streams.stdout, stderr: streams.stderr, timings: outcome.timings };
}
