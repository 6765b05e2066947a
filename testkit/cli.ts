import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', 'bin', 'dingtalk-callback.cjs');

/** The `DINGTALK_*` variables cleared, so the CLI falls back to the development credentials. */
export const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DINGTALK_')));

/** Runs the real `dingtalk-callback` command in a child process. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: options.env ?? CLEAN_ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
