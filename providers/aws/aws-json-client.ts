import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { sign } from 'aws4';
import { optional, required, type Environment } from '../../core/environment';
import { sleep } from '../../core/sleep';

/**
 * The one AWS client of the functions and the CLI: a signed POST per call in the JSON protocol
 * that DynamoDB, SSM, EventBridge and SQS speak, retried as the AWS SDK retries, inside the
 * caller's deadline. The SDK v3 clients cost ~45 ms of CPU at every cold start and 20 times the
 * bundle for calls whose whole wire format is a JSON body and an `X-Amz-Target` header
 * (docs/performance.md, "The AWS client").
 */

/** The keys a request is signed with (SigV4, by the `aws4` package). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** One AWS service in the JSON protocol. */
export interface AwsJsonService {
  /** For error messages: `DynamoDB`, `SSM`. */
  title: string;
  /** The signing name, also the first label of the endpoint: `dynamodb`, `ssm`, `events`, `sqs`. */
  name: string;
  /** The `X-Amz-Target` prefix: `DynamoDB_20120810`, `AmazonSSM`. */
  target: string;
  /** `1.0` (DynamoDB, SQS) or `1.1` (SSM, EventBridge). */
  jsonVersion: '1.0' | '1.1';
  /** The SDK's name for the service in `AWS_ENDPOINT_URL_<id>`: `DYNAMODB`, `SSM`, `EVENTBRIDGE`, `SQS`. */
  envId: string;
}

export const DYNAMODB: AwsJsonService = { title: 'DynamoDB', name: 'dynamodb', target: 'DynamoDB_20120810', jsonVersion: '1.0', envId: 'DYNAMODB' };
export const SSM: AwsJsonService = { title: 'SSM', name: 'ssm', target: 'AmazonSSM', jsonVersion: '1.1', envId: 'SSM' };
export const EVENTBRIDGE: AwsJsonService = { title: 'EventBridge', name: 'events', target: 'AWSEvents', jsonVersion: '1.1', envId: 'EVENTBRIDGE' };
export const SQS: AwsJsonService = { title: 'SQS', name: 'sqs', target: 'AmazonSQS', jsonVersion: '1.0', envId: 'SQS' };

/**
 * The DNS suffix of each partition other than `aws` and `aws-us-gov` (both `amazonaws.com`), by
 * the pattern of its region names, as the SDK's partition table gives them.
 */
const DNS_SUFFIXES: Array<[RegExp, string]> = [
  [/^cn-\w+-\d+$/, 'amazonaws.com.cn'],
  [/^eusc-de-\w+-\d+$/, 'amazonaws.eu'],
  [/^us-iso-\w+-\d+$/, 'c2s.ic.gov'],
  [/^us-isob-\w+-\d+$/, 'sc2s.sgov.gov'],
  [/^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk'],
  [/^us-isof-\w+-\d+$/, 'csp.hci.ic.gov'],
];

/**
 * Where `service` is called in `region`, as the SDK decides: `AWS_ENDPOINT_URL_<SERVICE>`, else
 * `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`; else the region's
 * own endpoint in its partition: `https://dynamodb.eu-central-1.amazonaws.com`,
 * `https://dynamodb.cn-north-1.amazonaws.com.cn`, `https://ssm.us-gov-west-1.amazonaws.com`.
 */
export function awsEndpoint(service: AwsJsonService, region: string, env: Environment = {}): string {
  if (optional(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS')?.toLowerCase() !== 'true') {
    const configured = optional(env, `AWS_ENDPOINT_URL_${service.envId}`) ?? optional(env, 'AWS_ENDPOINT_URL');
    if (configured) return configured;
  }
  const suffix = DNS_SUFFIXES.find(([pattern]) => pattern.test(region))?.[1] ?? 'amazonaws.com';
  return `https://${service.name}.${region}.${suffix}`;
}

export interface AwsJsonClientOptions {
  service: AwsJsonService;
  /** The signing region, and the endpoint's unless `endpoint` is given. */
  region: string;
  /** The keys, or where to get them before each request (a credential chain that refreshes them). */
  credentials: AwsCredentials | (() => Promise<AwsCredentials>);
  /** Default {@link awsEndpoint} without variables: the region's own. */
  endpoint?: string;
  /** Attempts per call, the first included; default 3, as the SDK's standard retry mode. */
  maxAttempts?: number;
}

/** An AWS error answer, or a request that never got one; `name` is AWS's error code (`ConditionalCheckFailedException`…). */
export class AwsError extends Error {
  constructor(
    /** `ProvisionedThroughputExceededException`, `ECONNREFUSED`, `TimeoutError`; `HTTP415` or `MalformedResponse` for an answer in no AWS form. */
    readonly code: string,
    message: string,
    /** The HTTP status, absent when no answer came. */
    readonly statusCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = code;
  }

  /** The endpoint answered, but not as an AWS service does (no error type, or no JSON): it is some other server. */
  get foreign(): boolean {
    return this.code === 'MalformedResponse' || /^HTTP\d+$/.test(this.code);
  }
}

/** Error codes AWS asks clients to retry after a backoff (the SDK's throttling list). */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'TransactionInProgressException',
]);
/** Failures of the connection itself, before or while the answer came. */
const TRANSIENT = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 20_000;

/**
 * Calls one AWS JSON service. Throttling, 5xx answers and broken connections are retried with
 * full-jitter exponential backoff (100 ms × 2^n), up to `maxAttempts`; `signal` ends the call,
 * its retries and backoff included, at once.
 */
export class AwsJsonClient {
  /** Where the calls go. */
  readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly maxAttempts: number;

  constructor(private readonly options: AwsJsonClientOptions) {
    this.url = new URL(options.endpoint ?? awsEndpoint(options.service, options.region));
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  /**
   * Sends `operation` (`PutItem`, `GetParameters`…) with `input` as its JSON body; answers the parsed reply.
   * @throws AwsError with AWS's error code, its message and what was called; or the signal's reason once it aborts.
   */
  async call<T>(operation: string, input: object, signal?: AbortSignal): Promise<T> {
    const what = `${this.options.service.title} ${operation}`;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      let error: AwsError;
      try {
        return (await this.send(operation, JSON.stringify(input, base64Binary), signal)) as T;
      } catch (failure) {
        if (signal?.aborted) throw signal.reason;
        // A connection's error code (ECONNREFUSED…), or a credential provider's error name.
        const { code, name, message } = failure as NodeJS.ErrnoException;
        error = failure instanceof AwsError ? failure : new AwsError(code ?? (name && name !== 'Error' ? name : 'NetworkError'), String(message), undefined, { cause: failure });
      }
      const retryable = THROTTLING.has(error.code) || TRANSIENT.has(error.code) || (error.statusCode ?? 0) >= 500;
      if (!retryable || attempt >= this.maxAttempts) {
        throw new AwsError(error.code, `${what} failed after ${attempt} attempt${attempt > 1 ? 's' : ''}: ${error.code}${error.statusCode ? ` (HTTP ${error.statusCode})` : ''}: ${error.message}`, error.statusCode, { cause: error.cause });
      }
      await sleep(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt), signal);
    }
  }

  /** Closes the idle keep-alive connections (tests; a Lambda container simply freezes). */
  destroy(): void {
    this.agent.destroy();
  }

  private async send(operation: string, body: string, signal: AbortSignal | undefined): Promise<unknown> {
    const { service, region, credentials } = this.options;
    const keys = typeof credentials === 'function' ? await credentials() : credentials;
    const request = sign(
      {
        host: this.url.host,
        path: this.url.pathname,
        method: 'POST',
        service: service.name,
        region,
        body,
        headers: { 'content-type': `application/x-amz-json-${service.jsonVersion}`, 'x-amz-target': `${service.target}.${operation}` },
      },
      keys,
    );
    const { hostname, port, protocol } = this.url;
    const requestOf = protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = requestOf({ ...request, host: undefined, hostname, port, agent: this.agent, signal }, (answer) => {
        readAll(answer).then((text) => {
          const status = answer.statusCode ?? 0;
          let parsed: { __type?: string; message?: string; Message?: string } = {};
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            if (status < 300) return reject(new AwsError('MalformedResponse', `the answer is not JSON (HTTP ${status})`, status));
          }
          if (status < 300) return resolve(parsed);
          // `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`, or the header.
          const type = parsed.__type ?? String(answer.headers['x-amzn-errortype'] ?? `HTTP${status}`);
          const code = type.split('#').pop()!.split(':')[0]!;
          reject(new AwsError(code, parsed.message ?? parsed.Message ?? text.slice(0, 200), status));
        }, reject);
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}

/**
 * A client for `service` as a function builds it: the region Lambda runs in (`AWS_REGION`), the
 * role's keys from the environment, and the endpoint of {@link awsEndpoint}.
 * @throws ConfigError naming every variable that is missing.
 */
export function functionClient(service: AwsJsonService, env: Environment): AwsJsonClient {
  const region = required(env, 'AWS_REGION');
  return new AwsJsonClient({ service, region, credentials: credentialsFromEnv(env), endpoint: awsEndpoint(service, region, env) });
}

/**
 * The credentials Lambda gives the function: its role's keys, in `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, valid for the container's life.
 * @throws ConfigError naming the variable that is missing.
 */
export function credentialsFromEnv(env: Environment): AwsCredentials {
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
  return { accessKeyId: required(env, 'AWS_ACCESS_KEY_ID'), secretAccessKey: required(env, 'AWS_SECRET_ACCESS_KEY'), ...(sessionToken && { sessionToken }) };
}

/** The JSON protocol carries binary values (DynamoDB's `B`) as base64 strings. */
function base64Binary(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
}

function readAll(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}
