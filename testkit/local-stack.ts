import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import DingTalkEncryptor from 'dingtalk-encrypt';
import { openReply, pushUrl, sealPush } from '../core/dingtalk-side';
import { loadSettings } from '../core/settings';
import { DEV_CREDENTIALS } from '../providers/local/dev-credentials';
import { freePort } from './ports';
import { linkService, offlineServerlessEnv } from './serverless';

/** `npm start`, running on spare ports. */
export interface LocalStack {
  /** The push URL it printed. */
  pushUrl: string;
  /** The inspector URL it printed. */
  inspectorUrl: string;
  httpPort: number;
  lambdaPort: number;
  dynamodbPort: number;
  inspectorPort: number;
  /** Everything it printed so far, stdout and stderr. */
  output: () => string;
  /** Sends `signal` to the whole process group, as Ctrl-C does, and waits until every process of it has gone. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** The command `npm start` runs: package.json's start script, read from there so the tests run exactly that. */
const START_SCRIPT = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;

/** Where {@link startLocalStack} serves, and how it starts. */
export type StackOptions = Partial<Record<'httpPort' | 'lambdaPort' | 'dynamodbPort' | 'inspectorPort' | 'dingtalkPort', number>> & {
  /**
   * Through `npm start` itself rather than its script run directly by `sh` as npm runs it (the
   * default: npm costs ~0.4 s of CPU per start, and one test going through it is enough).
   */
  npm?: boolean;
};

/**
 * Runs `npm start` for real on spare ports (unless `options` names some; `dingtalkPort` serves the
 * DingTalk sandbox when `env` sets `DINGTALK_SANDBOX=true`) with its data in `dataDir`,
 * with no `DINGTALK_*` set unless `env` sets some, and waits until it serves (up to 120 s: on a busy
 * machine serverless-offline bundles each function before it serves). It runs in a linked copy of
 * the service ({@link linkService}), so that stacks started side by side bundle into folders of their own.
 * @throws with its output when it exits or does not come up.
 */
export async function startLocalStack(dataDir: string, env: Record<string, string> = {}, options: StackOptions = {}): Promise<LocalStack> {
  const { httpPort = await freePort(), lambdaPort = await freePort(), dynamodbPort = await freePort(), inspectorPort = await freePort(), dingtalkPort = await freePort(), npm = false } = options;

  const args = ['--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort), '--dynamodbPort', String(dynamodbPort), '--inspectorPort', String(inspectorPort), '--dingtalkPort', String(dingtalkPort), '--dataDir', dataDir];
  const service = await mkdtemp(join(tmpdir(), 'npm-start-'));
  await linkService(service);
  // The linked copy is its HOME too: no real account's configuration, and nothing left behind.
  const baseEnv = Object.fromEntries(Object.entries(offlineServerlessEnv(service)).filter(([name]) => !name.startsWith('DINGTALK_')));
  // Else as npm runs a script: `sh -c` with the arguments after `--` appended, the package's bin folder first on PATH.
  const [command, argv, pathEnv]: [string, string[], Record<string, string>] = npm
    ? ['npm', ['start', '--', ...args], {}]
    : ['sh', ['-c', `${START_SCRIPT} "$@"`, 'npm-start', ...args], { PATH: `${join(service, 'node_modules', '.bin')}:${baseEnv.PATH ?? ''}` }];
  const child = spawn(command, argv, { cwd: service, env: { ...baseEnv, ...pathEnv, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // 'close' comes once every process holding the pipes (npm, its shell, serverless) has exited.
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve())).then(() => rm(service, { recursive: true, force: true }));
  const stop = async (signal: NodeJS.Signals = 'SIGINT') => {
    signalGroup(child, signal);
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 120_000);
    const settle = (up: boolean) => {
      clearTimeout(timer);
      resolve(up);
    };
    const check = () => /Server ready/.test(output) && settle(true);
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    void exited.then(() => settle(false));
  });
  const pushUrl = /DingTalk push URL: (\S+)/.exec(output)?.[1];
  const inspectorUrl = /Inspector: (\S+)/.exec(output)?.[1];
  if (!ready || !pushUrl || !inspectorUrl) {
    await stop('SIGKILL');
    throw new Error(`npm start did not come up:\n${output}`);
  }
  return { pushUrl, inspectorUrl, httpPort, lambdaPort, dynamodbPort, inspectorPort, output: () => output, stop };
}

/**
 * Pushes `message` to `stack` as DingTalk does, over HTTP, sealed with `env` (the development
 * credentials by default) for the first ownerKey it names, answering the status and the decrypted
 * reply, which the npm peer dingtalk-encrypt must verify and decrypt to the same text as the core does.
 */
export async function pushTo(stack: LocalStack, message: string, env: Record<keyof typeof DEV_CREDENTIALS, string> = DEV_CREDENTIALS): Promise<{ status: number; reply: string }> {
  const settings = loadSettings(env);
  const [ownerKey] = settings.ownerKeys as [string];
  const sealed = sealPush(settings, message, ownerKey);
  const response = await fetch(pushUrl(stack.pushUrl, sealed), { method: 'POST', headers: { 'content-type': 'application/json' }, body: sealed.body });
  const body = await response.text();
  if (response.status !== 200) return { status: response.status, reply: body };
  const reply = openReply(settings, body, ownerKey);
  const { msg_signature, timeStamp, nonce, encrypt } = JSON.parse(body) as Record<string, string>;
  const peer = new DingTalkEncryptor(env.DINGTALK_TOKEN, env.DINGTALK_AES_KEY, ownerKey);
  expect(peer.getDecryptMsg(msg_signature!, timeStamp!, nonce!, encrypt!), 'the reply as dingtalk-encrypt reads it').to.equal(reply);
  return { status: response.status, reply };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}
