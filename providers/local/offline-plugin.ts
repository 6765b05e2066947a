import { existsSync, readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import WebSocket from 'ws';
import { ConfigError } from '../../core/errors';
import { HANDSHAKES } from '../../core/events';
import type { Sink } from '../../core/forward';
import type { Environment } from '../../core/environment';
import type { Settings } from '../../core/settings';
import { frameLine, runRelay, wsConnect } from '../../core/stream-relay';
import { terminalSafe } from '../../core/terminal-safe';
import type { StreamSettings } from '../../core/stream-settings';
import type { AwsJsonClient } from '../aws/aws-json-client';
import { DynamoDbEventStore } from '../aws/dynamodb-store';
import { DynamoDbEventWriter } from '../aws/dynamodb-writer';
import { startLocalDeadLetterQueue, type LocalDeadLetterQueue } from './dead-letter-queue';
import { DingTalkSandbox, SANDBOX_PORT, SANDBOX_VARIABLE } from './dingtalk-sandbox';
import { startDynamoDbServer, type DynamoDbServer } from './dynamodb-server';
import { createLocalStream, type LocalStream } from './local-stream';
import { deadLettersIn, DeliveryBook } from '../../inspector/deliveries';
import { startInspector, type Inspector } from '../../inspector/server';
import { ensureEventTable, ensureRecoverInboxTable } from './events-table';
import { LOCAL_AWS_CREDENTIALS, LOCAL_DYNAMODB_PORT, LOCAL_INBOX_TABLE, LOCAL_TABLE_NAME, localDynamoDbClient, localDynamoDbEndpoint } from './local-dynamodb';
import { LOCAL_DATA_DIR, LOCAL_INSPECTOR_PORT, localDataDir, localSettings, refuseWhatIsInUse, StartRefusal, type LocalSettings, type StartOptions } from './start-checks';

/** How long a put may take locally: the function's timeout in `serverless.aws.yml`. */
const LOCAL_PUT_DEADLINE_MS = 10_000;

/** The parts of Serverless Framework v3 this plugin touches. */
interface Serverless {
  serviceDir: string;
  /** Serverless prints these as a message, without a stack trace. */
  classes: { Error: new (message: string, code: string) => Error };
  service: {
    provider: { environment?: Record<string, unknown> };
    getFunction(name: string): { name: string; environment?: Record<string, unknown>; events?: { schedule?: { enabled?: unknown; rate?: unknown } }[] };
  };
}

type Options = StartOptions;

interface PluginUtils {
  writeText: (text: string) => void;
}

const OPTIONS = {
  dynamodbPort: { usage: `Port of the embedded DynamoDB-compatible store (default ${LOCAL_DYNAMODB_PORT})`, type: 'string' },
  dataDir: { usage: `Directory the store keeps its data in (default ${LOCAL_DATA_DIR})`, type: 'string' },
  inspectorPort: { usage: `Port of the inspector page, on 127.0.0.1 only (default ${LOCAL_INSPECTOR_PORT})`, type: 'string' },
  dingtalkPort: { usage: `Port of the local stand-in for DingTalk's server API that ${SANDBOX_VARIABLE}=true runs (default ${SANDBOX_PORT})`, type: 'string' },
};

/**
 * What `sls offline` needs to run the AWS function with nothing set up: an embedded DynamoDB
 * (dynalite) with the events table of `serverless.aws.yml`, the function pointed at it, and the
 * development credentials when none of the three credentials is set. Stopped with serverless-offline (Ctrl-C).
 */
export class LocalStackPlugin {
  readonly commands = { offline: { options: OPTIONS, commands: { start: { options: OPTIONS } } } };
  readonly hooks = {
    'before:offline:start': () => this.start(),
    'before:offline:start:init': () => this.start(),
    // serverless-offline serves the functions now: what a killed run left unforwarded goes first.
    'before:offline:start:ready': () => this.stream?.replay(),
    'before:offline:start:end': () => this.end(),
    // serverless-esbuild rebuilt the bundle after a change: run the new one at the next push.
    'offline:functionsUpdated:cleanup': () => forgetBundles(resolve(this.serverless.serviceDir, '.esbuild')),
  };
  private server?: DynamoDbServer;
  private deadLetters?: LocalDeadLetterQueue;
  private stream?: LocalStream;
  private relay?: { stop: AbortController; done: Promise<unknown>; client: AwsJsonClient };
  private inspector?: { server: Inspector; client: AwsJsonClient };
  /** The onward delivery of each event this run saw, for the inspector. */
  private readonly deliveries = new DeliveryBook();
  private sandbox?: DingTalkSandbox;
  private dataDir = '';

  constructor(
    private readonly serverless: Serverless,
    private readonly options: Options,
    private readonly utils: PluginUtils,
  ) {}

  private async start(): Promise<void> {
    // start.cjs made the same checks before serverless loaded; a port may have been taken since.
    let local: LocalSettings;
    try {
      local = localSettings(process.env, this.options);
    } catch (error) {
      throw this.refused(error);
    }
    const { env, usingDev, sandbox, sandboxPort, sandboxApp, forwardEnv, usingDevSecret, settings, forwardSettings, sinks, recoverConfigured, streamSettings } = local;
    const forwarding = sinks.length > 0;
    const forwarded = (eventType: string) => forwarding && !HANDSHAKES.has(eventType) && forwardSettings.types(eventType);
    const recoverLine = this.scheduleRecover(env, sandbox, recoverConfigured);
    this.unscheduleStream();
    const dataDir = localDataDir(this.serverless.serviceDir, this.options);
    this.dataDir = dataDir;
    const port = Number(this.options.dynamodbPort ?? LOCAL_DYNAMODB_PORT);
    const inspectorPort = Number(this.options.inspectorPort ?? LOCAL_INSPECTOR_PORT);
    await refuseWhatIsInUse(this.options, dataDir, sandbox).catch((error: unknown) => {
      throw this.refused(error);
    });
    const stream = forwarding ? await this.startStream(dataDir, usingDevSecret ? forwardEnv.DINGTALK_FORWARD_SECRET : undefined, forwarded) : undefined;
    this.stream = stream;
    // Each new event goes to the stream, when forwarding, and to the pages the inspector serves.
    const onPut = (tableName: string, item: Parameters<LocalStream['insert']>[0]) => {
      if (tableName !== LOCAL_TABLE_NAME) return;
      const id = String(item.id?.S);
      if (stream && forwarded(String(item.eventType?.S))) this.deliveries.queued(id);
      stream?.insert(item);
      this.inspector?.server.stored(id);
    };
    this.server = await startDynamoDbServer({ port, dataDir, onPut }).catch(async (error: unknown) => {
      await this.stop();
      if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
      throw this.failure(`port ${port} is in use: choose another with --dynamodbPort`, 'DYNAMODB_PORT_IN_USE');
    });
    const endpoint = localDynamoDbEndpoint(this.server.port);
    const client = localDynamoDbClient(endpoint);
    try {
      if (sandbox) this.sandbox = await new DingTalkSandbox().start(sandboxPort);
      await ensureEventTable(client, LOCAL_TABLE_NAME);
      await ensureRecoverInboxTable(client, LOCAL_INBOX_TABLE);
    } catch (error) {
      // A running server would keep the process alive after Serverless reports the error.
      await this.stop().catch(() => undefined);
      throw error;
    } finally {
      client.destroy();
    }
    const { provider } = this.serverless.service;
    const { DINGTALK_SSM_PREFIX: _deployedOnly, ...environment } = provider.environment ?? {};
    provider.environment = {
      ...environment,
      ...dingTalkVariables(env),
      EVENTS_TABLE: LOCAL_TABLE_NAME,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      // Here the store shares one process and the CPU with serverless-offline and the function, and
      // a burst slows puts past the deadline that suits DynamoDB: allow a put the function's whole timeout.
      DYNAMODB_PUT_DEADLINE_MS: String(LOCAL_PUT_DEADLINE_MS),
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    };
    // The deploy names the inbox after the stage; npm start keeps the one it made, as for the events.
    const recover = this.serverless.service.getFunction('recover');
    // Its DINGTALK_API_BASE comes from the deploying shell's: the sandbox's is the one filled in here.
    recover.environment = { ...recover.environment, RECOVER_INBOX_TABLE: LOCAL_INBOX_TABLE, ...(sandbox && { DINGTALK_API_BASE: env.DINGTALK_API_BASE }) };
    const inspectorUrl = await this.startInspector(inspectorPort, endpoint, settings, forwarding ? { sinks, types: forwarded } : undefined);
    const streamLine = streamSettings ? this.startRelay(streamSettings, endpoint) : streamOff(env, sandboxApp);
    this.announce(inspectorUrl, endpoint, dataDir, usingDev ? env : undefined, forwarding ? forwardEnv : undefined, usingDevSecret, [recoverLine, streamLine, ...this.sandboxLines()]);
  }

  /**
   * Serves the inspector page on 127.0.0.1 over this store: its sample pushes go to the push URL
   * with the function's credentials, its re-deliveries to the function's sinks. Answers its URL.
   */
  private async startInspector(port: number, endpoint: string, settings: Settings, forward: { sinks: Sink[]; types: (eventType: string) => boolean } | undefined): Promise<string> {
    const client = localDynamoDbClient(endpoint);
    const store = new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client });
    const target = { url: this.pushUrl(), settings, ownerKey: settings.ownerKeys[0]! };
    const server = await startInspector({ port, store, deliveries: this.deliveries, target, ...(forward && { forward }) }).catch(async (error: unknown) => {
      client.destroy();
      await this.stop();
      if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
      throw this.failure(`port ${port} is in use: choose another with --inspectorPort`, 'INSPECTOR_PORT_IN_USE');
    });
    this.inspector = { server, client };
    return server.url;
  }

  /**
   * Runs the Stream relay beside serverless-offline, into the local store: its puts reach dynalite
   * like the function's, so the local stream forwards them as it does pushed ones. A line per event
   * and per change of connection; DingTalk refusing the credentials stops the relay, not npm start.
   */
  private startRelay(settings: StreamSettings, endpoint: string): string {
    const client = localDynamoDbClient(endpoint);
    const stop = new AbortController();
    const write = (line: string) => this.utils.writeText(`Stream: ${line}\n`);
    const done = runRelay({
      settings,
      writer: new DynamoDbEventWriter({ tableName: LOCAL_TABLE_NAME, client, putDeadlineMs: settings.timing.ackBudgetMs - settings.timing.ackMarginMs }),
      connect: wsConnect(WebSocket, settings.timing.openTimeoutMs),
      signal: stop.signal,
      log: () => {},
      onFrame: (frame) => write(frameLine(frame)),
      onStatus: (status) => write(terminalSafe(status.message)),
    }).catch((error: unknown) => write(`stopped: ${error instanceof ConfigError ? error.message : 'the relay failed'}`));
    this.relay = { stop, done, client };
    return `Stream: receiving the events of ${terminalSafe(settings.clientId)} over DingTalk Stream mode into this store (no public URL needed; DINGTALK_STREAM_ENABLED=false turns it off), docs/stream.md`;
  }

  /**
   * Whether `recover` runs on its schedule here: only when an app (or suite) is set to pull for.
   * Without one, every run would fail on the missing key; with one, each run takes the items off
   * that app's failed list for good, into this machine's store, so it must be asked for.
   */
  private scheduleRecover(env: Environment, sandbox: boolean, configured: boolean): string {
    const schedules = (this.serverless.service.getFunction('recover').events ?? []).flatMap((event) => (event.schedule ? [event.schedule] : []));
    if (!configured) {
      for (const schedule of schedules) schedule.enabled = false;
      return "Recover: off (set DINGTALK_APP_KEY and DINGTALK_APP_SECRET to pull DingTalk's failed list on a schedule, docs/recover.md)";
    }
    if (schedules.every((schedule) => schedule.enabled === false)) return 'Recover: its schedule is disabled';
    if (sandbox) return `Recover: on its schedule (${schedules.map((schedule) => String(schedule.rate)).join(', ')}), the failed list of the DingTalk sandbox at ${env.DINGTALK_API_BASE} is pulled into this store, docs/recover.md`;
    return "Recover: on its schedule, DingTalk's failed list is pulled into this store (and taken off DingTalk's list), docs/recover.md";
  }

  /**
   * Turns the scheduled `stream` function's schedule off: here the Stream relay runs in this process
   * when it runs at all (the banner's `Stream:` line), and the function would open a second
   * connection every 12 minutes, or, with the sandbox's development app, try DingTalk's real
   * gateway with it.
   */
  private unscheduleStream(): void {
    for (const event of this.serverless.service.getFunction('stream').events ?? []) if (event.schedule) event.schedule.enabled = false;
  }

  /**
   * The forward function's stream and dead-letter queue: dynalite has no stream, so each new item
   * is handed to the function through serverless-offline's Lambda invoke endpoint, as DynamoDB
   * Streams would, and its SQS dead letters land in a file.
   */
  private async startStream(dataDir: string, devSecret: string | undefined, forwarded: (eventType: string) => boolean): Promise<LocalStream> {
    const deadLetterFile = resolve(dataDir, 'forward-dead-letters.jsonl');
    // What earlier runs dead-lettered, then each new dead letter: the inspector shows them.
    if (existsSync(deadLetterFile)) for (const entry of deadLettersIn(readFileSync(deadLetterFile, 'utf8'))) this.deliveries.deadLettered(entry);
    this.deadLetters = await startLocalDeadLetterQueue(deadLetterFile, (body) => deadLettersIn(body).forEach((entry) => this.deliveries.deadLettered(entry)));
    const forward = this.serverless.service.getFunction('forward');
    forward.environment = {
      ...forward.environment,
      DINGTALK_DEAD_LETTER_QUEUE_URL: this.deadLetters.queueUrl,
      AWS_ENDPOINT_URL_SQS: new URL(this.deadLetters.queueUrl).origin,
      ...(devSecret && { DINGTALK_FORWARD_SECRET: devSecret }),
    };
    const invokeUrl = `http://localhost:${this.options.lambdaPort ?? 3002}/2015-03-31/functions/${forward.name}/invocations`;
    return createLocalStream({
      tableName: LOCAL_TABLE_NAME,
      invoke: async (event) => {
        const response = await fetch(invokeUrl, { method: 'POST', body: JSON.stringify(event) });
        const text = await response.text();
        if (response.status !== 200 || response.headers.has('x-amz-function-error')) throw new Error(`the forward function failed (HTTP ${response.status})`);
        return text ? JSON.parse(text) : undefined;
      },
      onFailure: (message) => this.deadLetters!.append(message),
      warn: (message) => this.utils.writeText(`${message}\n`),
      journal: resolve(dataDir, 'forward-pending.jsonl'),
      onHandled: (taken, gaveUpOn) => {
        const ids = (images: typeof taken) => images.filter((image) => forwarded(String(image.eventType?.S))).map((image) => String(image.id?.S));
        this.deliveries.handled(ids(taken), ids(gaveUpOn));
      },
    });
  }

  /** The banner's word on what an earlier run stored but had not forwarded when it was stopped. */
  private replaying(): string {
    const left = this.stream?.leftOver ?? 0;
    return left > 0 ? `; first the ${left} event${left === 1 ? '' : 's'} an earlier run stored but had not forwarded when it stopped` : '';
  }

  private failure(message: string, code: string): Error {
    return new this.serverless.classes.Error(message, code);
  }

  /** A refusal as serverless's own error, which it prints as a message without a stack trace; any other error as it is. */
  private refused(error: unknown): unknown {
    return error instanceof StartRefusal ? this.failure(error.message, error.code) : error;
  }

  private async end(): Promise<void> {
    await this.stop();
    this.utils.writeText(`Local DynamoDB stopped; the events stay in ${this.dataDir}\n`);
  }

  private async stop(): Promise<void> {
    const { server, deadLetters, relay, inspector, sandbox } = this;
    this.server = this.deadLetters = this.relay = this.inspector = this.sandbox = undefined;
    await sandbox?.stop();
    // The relay first: what it holds is stored and acked while the store still serves.
    relay?.stop.abort();
    await relay?.done;
    relay?.client.destroy();
    await inspector?.server.close();
    inspector?.client.destroy();
    await server?.close();
    await deadLetters?.close();
  }

  /** The banner's lines on the DingTalk sandbox, when it runs. */
  private sandboxLines(): string[] {
    if (!this.sandbox) return [];
    const cli = `${SANDBOX_VARIABLE}=true npx dingtalk-callback`;
    return [
      `DingTalk sandbox (${SANDBOX_VARIABLE}=true): a local stand-in for DingTalk's server API at ${this.sandbox.url} (gettoken, the failed lists, callback registration), app ${this.sandbox.appKey} with the development app credentials (never deploy them)`,
      `  try: ${cli} send bpms_instance_change --undelivered (it waits in the failed list), then ${cli} recover (stored with source "recovered"); ${cli} callback-url get | register`,
    ];
  }

  /** Where serverless-offline serves the callback. */
  private pushUrl(): string {
    return `http://${this.options.host ?? 'localhost'}:${this.options.httpPort ?? 3000}/dingtalk`;
  }

  private announce(inspectorUrl: string, endpoint: string, dataDir: string, devCredentials: Environment | undefined, forwardEnv: Environment | undefined, devSecret: boolean, scheduled: string[]): void {
    const url = this.pushUrl();
    const sinks = forwardEnv && [forwardEnv.DINGTALK_FORWARD_URL?.trim(), forwardEnv.DINGTALK_EVENT_BUS?.trim() && `EventBridge bus ${forwardEnv.DINGTALK_EVENT_BUS.trim()}`].filter(Boolean);
    const lines = [
      '',
      `DingTalk push URL: ${url}`,
      `Inspector: ${inspectorUrl} (the events, their payloads and onward deliveries; this machine only)`,
      `Events: DynamoDB ${endpoint}, table ${LOCAL_TABLE_NAME}, data in ${dataDir}`,
      sinks
        ? `Forwarding each new event to ${sinks.join(' and ')}; dead letters in ${this.deadLetters?.file}${this.replaying()}`
        : 'Forwarding: off (set DINGTALK_FORWARD_URL to deliver each new event to a webhook, docs/forward.md)',
      ...scheduled,
    ];
    if (devSecret) lines.push(`No DINGTALK_FORWARD_SECRET is set, so deliveries are signed with the development secret: DINGTALK_FORWARD_SECRET=${forwardEnv?.DINGTALK_FORWARD_SECRET}`);
    if (devCredentials) {
      lines.push(
        'None of DINGTALK_TOKEN, DINGTALK_AES_KEY, DINGTALK_OWNER_KEY is set, so the development credentials are in use (never deploy them):',
        `  DINGTALK_TOKEN=${devCredentials.DINGTALK_TOKEN}`,
        `  DINGTALK_AES_KEY=${devCredentials.DINGTALK_AES_KEY}`,
        `  DINGTALK_OWNER_KEY=${devCredentials.DINGTALK_OWNER_KEY}`,
      );
    }
    this.utils.writeText(`${lines.join('\n')}\n`);
  }
}

/**
 * Drops every module loaded from `dir` (serverless-esbuild's output) from node's module cache, so
 * that serverless-offline's in-process runner, which loads the handler with `require`, loads the
 * rebuilt bundle at the next invocation instead of the one it loaded first.
 */
export function forgetBundles(dir: string): void {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  for (const path of Object.keys(require.cache)) if (path.startsWith(prefix)) delete require.cache[path];
}

/** The function's own settings from the local environment; the SSM prefix is for deployed stages only. */
function dingTalkVariables(env: Environment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[0].startsWith('DINGTALK_') && entry[0] !== 'DINGTALK_SSM_PREFIX' && entry[1] !== undefined),
  );
}

/** The banner's Stream line when the relay does not run. */
function streamOff(env: Environment, sandboxApp: boolean): string {
  if (sandboxApp) return "Stream: off (the DingTalk sandbox has no Stream gateway; set a real app's DINGTALK_APP_KEY and DINGTALK_APP_SECRET for Stream mode, docs/stream.md)";
  if (env.DINGTALK_STREAM_ENABLED?.trim().toLowerCase() === 'false') return 'Stream: off (DINGTALK_STREAM_ENABLED=false)';
  return "Stream: off (set DINGTALK_APP_KEY and DINGTALK_APP_SECRET to receive the app's events over DingTalk Stream mode, docs/stream.md)";
}
