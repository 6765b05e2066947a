import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../cli/main';

const BIN = join(__dirname, '..', 'bin', 'dingtalk-callback.cjs');

/** The `DINGTALK_*` variables cleared, so the CLI falls back to the development credentials. */
export const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DINGTALK_')));

/** What a run of the CLI ended with and printed. */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** How to run the CLI: its environment (default {@link CLEAN_ENV}), and whether standard error is a terminal. */
export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Standard error is a terminal (progress bars are drawn there only then); default false. */
  tty?: boolean;
  /** Standard output is a terminal this many columns wide; default: not a terminal. */
  columns?: number;
}

/**
 * Runs `dingtalk-callback` in this process: `main(args)` with `env` as the whole environment and
 * stdout and stderr captured (and kept off the terminal), restoring all three afterwards. The same
 * code as the command, without a 1.4 s node + tsx start per run; {@link runBin} proves the bin.
 */
export async function runCli(args: string[], { env = CLEAN_ENV, tty = false, columns }: CliOptions = {}): Promise<CliRun> {
  const output = { stdout: '', stderr: '' };
  const saved = { env: process.env, stdout: process.stdout.write, stderr: process.stderr.write, isTTY: process.stderr.isTTY, stdoutTTY: process.stdout.isTTY, columns: process.stdout.columns };
  const capture = (name: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      output[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      rest.find((arg): arg is () => void => typeof arg === 'function')?.();
      return true;
    }) as typeof process.stdout.write;
  process.env = { ...env };
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  process.stderr.isTTY = tty;
  process.stdout.isTTY = columns !== undefined;
  process.stdout.columns = columns as number;
  try {
    const status = await main(args);
    return { status, ...output };
  } finally {
    process.env = saved.env;
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
    process.stderr.isTTY = saved.isTTY;
    process.stdout.isTTY = saved.stdoutTTY;
    process.stdout.columns = saved.columns;
  }
}

/**
 * Runs the real `dingtalk-callback` command in a child process, `input` on its standard input;
 * with `closedStdout`, its standard output is a pipe whose reader has gone before it writes (`| head`).
 */
export function runBin(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; closedStdout?: boolean } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: options.env ?? CLEAN_ENV });
    if (options.closedStdout) child.stdout.destroy();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
