import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';

/**
 * Corrections to serverless-aliyun-function-compute 1.2.6 for deploy and remove, applied by the
 * bridge when Serverless loads it, so that nothing depends on an edit to node_modules:
 * - its usage reports to Google Analytics are never sent ({@link silenceProviderAnalytics});
 * - a remove keeps the code bucket other stages still use ({@link keepSharedCodeBucket});
 * - every client talks HTTPS and the code upload carries a Content-MD5 ({@link secureProviderClients});
 * - a refused permission ends the deploy (or remove) with one line naming it ({@link explainRefusals}).
 */

/** The plugin's own copies of the Alibaba Cloud SDKs. */
const pluginRequire = createRequire(require.resolve('serverless-aliyun-function-compute/package.json'));
const VISITOR = pluginRequire.resolve('./shared/visitor.js');

/** What the plugin's analytics module exports, made to do nothing. */
const silentVisitor = {
  getVisitor: () => silentVisitor.visitor,
  visitorWrap: () => (_action: string, run: () => unknown) => run,
  hooksWrap: <T>(hooks: T) => hooks,
  sendDownloaded: () => undefined,
  visitor: { pageview: () => ({ send: () => undefined }), event: () => ({ send: () => undefined }) },
};

/**
 * The provider plugin reports every command to Google Analytics with a persistent client id unless
 * it detects CI. When the bridge loads first (it is listed first in `plugins:`), the analytics module
 * is replaced before the plugin is loaded, so no client id is even written; otherwise the visitor
 * already made is muted.
 */
export function silenceProviderAnalytics(): void {
  const loaded = require.cache[VISITOR];
  if (!loaded) {
    const module = new Module(VISITOR);
    Object.assign(module, { filename: VISITOR, loaded: true, exports: silentVisitor });
    require.cache[VISITOR] = module;
    return;
  }
  const visitor = (loaded.exports as { getVisitor(): { pageview: unknown; event: unknown } }).getVisitor();
  Object.assign(visitor, silentVisitor.visitor);
}

/** What the provider plugin's remove command (`remove/aliyunRemove.js`) holds while it removes the code. */
interface ProviderRemove {
  bucket?: { name: string };
  provider: { getObjects(query: object): Promise<unknown[]> };
  serverless: { cli: { log(message: string): void } };
}

/**
 * On remove the provider plugin deletes this stage's zips, then the code bucket
 * `sls-<account>-<region>` itself, which every service and stage deployed to that region shares:
 * with another's code still in it OSS refuses (`BucketNotEmpty`) and the remove stops there, before
 * the bridge deletes the roles. Such a bucket is kept instead, and the remove says so. The plugin
 * copies these methods onto its remove command when it constructs it, so this must run before the
 * plugin loads, as {@link silenceProviderAnalytics} does.
 */
export function keepSharedCodeBucket(): void {
  const artifacts = pluginRequire('./remove/lib/removeArtifacts.js') as { removeBucket(this: ProviderRemove): Promise<void> };
  const removeBucket = artifacts.removeBucket;
  artifacts.removeBucket = async function (this: ProviderRemove) {
    // The plugin pointed its OSS client at the bucket to list this stage's zips; now any object will do.
    if (this.bucket && (await this.provider.getObjects({ 'max-keys': 1 })).length > 0) {
      this.serverless.cli.log(`Kept OSS bucket ${this.bucket.name}: it holds the code of other stages or services`);
      return;
    }
    await removeBucket.call(this);
  };
}

/** The provider plugin's client factories and the credentials they use. */
export interface ProviderClients {
  key: { aliyun_account_id: string; aliyun_access_key_id: string; aliyun_access_key_secret: string };
  options: { region?: string };
  ossClient: OssClient;
  resetOssClient(bucket: string): OssClient;
  uploadObject(name: string, path: string): Promise<unknown>;
}
interface OssClient {
  /** A generator function in ali-oss 4 (run it with co). */
  put(name: string, body: Buffer): unknown;
}

/** The clients {@link secureProviderClients} makes, by the provider's property name. */
export type ClientName = 'fcClient' | 'agClient' | 'slsClient' | 'ossClient' | 'ramClient';

/**
 * Replaces the provider's plain-HTTP clients (Function Compute, API Gateway, Log Service, OSS) with
 * the same SDKs over HTTPS; RAM already is, and is made here too so that `decorate` sees every
 * client, once, when the provider first uses it. The code zip is uploaded as a buffer, so OSS signs
 * a Content-MD5 of it and rejects a body damaged on the way.
 */
export function secureProviderClients(provider: ProviderClients, decorate: (name: ClientName, client: object) => void = () => {}): void {
  const FCClient = pluginRequire('@alicloud/fc') as new (account: string, config: object) => unknown;
  const CloudAPI = pluginRequire('@alicloud/cloudapi') as new (config: object) => unknown;
  const SLS = pluginRequire('@alicloud/log') as new (config: object) => unknown;
  const OSS = pluginRequire('ali-oss') as (config: object) => OssClient;
  const RAM = pluginRequire('@alicloud/ram') as new (config: object) => unknown;
  const region = () => provider.options.region!;
  const keys = () => ({ accessKeyId: provider.key.aliyun_access_key_id, accessKeySecret: provider.key.aliyun_access_key_secret });
  const made = new Map<string, unknown>();
  const build = (name: ClientName, client: unknown) => {
    decorate(name, client as object);
    made.set(name, client);
    return client;
  };
  const once = (name: ClientName, make: () => unknown) => ({ configurable: true, get: () => (made.has(name) ? made.get(name) : build(name, make())) });
  const oss = (bucket?: string) => OSS({ ...keys(), region: `oss-${region()}`, secure: true, ...(bucket ? { bucket } : {}) });
  Object.defineProperties(provider, {
    fcClient: once('fcClient', () => new FCClient(provider.key.aliyun_account_id, { accessKeyID: keys().accessKeyId, accessKeySecret: keys().accessKeySecret, region: region(), secure: true })),
    agClient: once('agClient', () => new CloudAPI({ ...keys(), endpoint: `https://apigateway.${region()}.aliyuncs.com` })),
    slsClient: once('slsClient', () => new SLS({ ...keys(), region: region(), use_https: true })),
    ossClient: once('ossClient', () => oss()),
    ramClient: once('ramClient', () => new RAM({ ...keys(), endpoint: 'https://ram.aliyuncs.com' })),
  });
  provider.resetOssClient = (bucket) => build('ossClient', oss(bucket)) as OssClient;
  const co = pluginRequire('co') as (generator: unknown) => Promise<unknown>;
  provider.uploadObject = (name, path) => co(provider.ossClient.put(name, readFileSync(path)));
}

/** Error codes with which Alibaba Cloud APIs refuse an action the caller lacks a permission for. */
const REFUSED = /^(NoPermission|Forbidden|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|Unauthorized)/;

/** The permission and resource each provider call needs, for a refusal whose message does not say. */
export type PermissionMap = Record<string, (...args: never[]) => [action: string, resource: string]>;

/**
 * Wraps the provider's calls so that a refusal (for example RAM's `NoPermission` on CreateRole)
 * becomes one line naming the permission and the resource, instead of a stack trace or, where the
 * plugin does not await the call, an "Uncaught exception" after half the resources exist.
 * `command` (`deploy`, `remove`) is what the line says to run again once the permission is granted.
 */
export function explainRefusals(provider: object, permissions: PermissionMap, fail: (message: string) => Error, command = 'deploy'): void {
  const target = provider as Record<string, unknown>;
  for (const [method, permission] of Object.entries(permissions)) {
    const call = target[method];
    if (typeof call !== 'function') continue;
    target[method] = async (...args: never[]) => {
      try {
        return await (call as (...a: never[]) => Promise<unknown>).apply(provider, args);
      } catch (error) {
        throw refusal(error, () => permission(...args), fail, command) ?? error;
      }
    };
  }
}

/** The one-line error for a refused call, or undefined when `error` is no refusal. */
export function refusal(error: unknown, permission: () => [string, string], fail: (message: string) => Error, command = 'deploy'): Error | undefined {
  const { code, name, message } = error as { code?: string; name?: string; message?: string };
  const reason = code ?? name?.replace(/Error$/, '') ?? '';
  if (!REFUSED.test(reason)) return undefined;
  const said = /Resource:\s*(\S+?),?\s+Action:\s*([A-Za-z0-9:*_-]+)/.exec(message ?? '');
  const [action, resource] = said ? [said[2]!, said[1]!] : permission();
  return fail(`Alibaba Cloud refused ${action} on ${resource} (${reason}): grant the deploying user that permission (docs/deploy-aliyun.md lists them all), then run \`sls ${command}\` again.`);
}
