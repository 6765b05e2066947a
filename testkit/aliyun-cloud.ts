import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { listenOnLoopback } from './ports';

/**
 * A recording fake of the Alibaba Cloud APIs a deploy calls (Function Compute 2.0, RAM, OSS, Log
 * Service, API Gateway; Tablestore is proxied to `testkit/tablestore-server.ts`), written from their
 * API references. It answers HTTPS (a test certificate for `*.aliyuncs.com`, {@link ALIYUN_FAKE_CA})
 * on one loopback port and plain HTTP on another, so a client that forgets TLS is seen doing so rather
 * than failing. `testkit/aliyun-cloud-preload.cjs` routes a child process's connections here. Every
 * request, to whatever host, is recorded; nothing leaves the machine.
 */

/** The certificate the fake serves; give it to the child as `NODE_EXTRA_CA_CERTS`. */
export const ALIYUN_FAKE_CA = join(__dirname, 'tls', 'aliyun-fake.crt');
const KEY = join(__dirname, 'tls', 'aliyun-fake.key');
/** The preload module that routes a child's connections to the fake (`node --require`). */
export const ALIYUN_FAKE_PRELOAD = join(__dirname, 'aliyun-cloud-preload.cjs');

/** One request the fake received. */
export interface CloudCall {
  scheme: 'https' | 'http';
  host: string;
  method: string;
  /** Path and query as sent. */
  url: string;
  /** `fc`, `ram`, `oss`, `log`, `apigateway`, `ots`, or `other` for any host that is not Alibaba Cloud's. */
  service: string;
  /** The API operation, e.g. `CreateFunction`, `CreateRole`, `PutObject`. */
  action: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The JSON body or the RPC parameters, whichever the API uses. */
  params: Record<string, unknown>;
  status: number;
}

/** A permission the fake refuses, as RAM would for a user without it. */
export interface Refusal {
  /** The action, as in a RAM policy: `ram:CreateRole`. */
  action: string;
}

export interface AliyunCloud {
  /** The HTTPS port: where connections to port 443 go. */
  readonly port: number;
  /** The plain-HTTP port: where every other connection goes, so a client that forgets TLS is seen. */
  readonly httpPort: number;
  readonly calls: CloudCall[];
  /** Every TLS server name a client asked for (SNI), including hosts with no valid certificate here. */
  readonly serverNames: string[];
  /** From now on refuse these actions with `NoPermission` / `AccessDenied`. */
  refuse(...actions: string[]): void;
  /** From now on allow these actions again. */
  allow(...actions: string[]): void;
  /** Stores an object as another client of the account would (another stage's deploy, say), making its bucket if missing. */
  putObject(bucket: string, key: string, body: Buffer): void;
  /** The names of what the fake cloud holds now (functions as `service/function`, triggers as `service/function/trigger`). */
  holdings(): Holdings;
  close(): Promise<void>;
}

/** What {@link AliyunCloud.holdings} lists. */
export interface Holdings {
  roles: string[];
  policies: string[];
  services: string[];
  functions: string[];
  triggers: string[];
  buckets: string[];
  objects: string[];
  apiGroups: string[];
  apis: string[];
  logStores: string[];
}

interface Reply {
  status?: number;
  json?: unknown;
  xml?: string;
}

class CloudError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the fake; `tablestore` is the base URL of a local Tablestore server to forward OTS calls to. */
export async function startAliyunCloud({ tablestore, accountId = '1234567890123456' }: { tablestore?: string; accountId?: string } = {}): Promise<AliyunCloud> {
  const calls: CloudCall[] = [];
  const serverNames: string[] = [];
  const refused = new Set<string>();
  const state = {
    roles: new Map<string, { RoleName: string; Arn: string; AssumeRolePolicyDocument: string }>(),
    policies: new Map<string, string[]>(),
    attached: new Map<string, Array<{ PolicyName: string; PolicyType: string }>>(),
    services: new Map<string, Record<string, unknown>>(),
    functions: new Map<string, Record<string, unknown>>(),
    triggers: new Map<string, Record<string, unknown>>(),
    buckets: new Set<string>(),
    objects: new Map<string, Buffer>(),
    projects: new Set<string>(),
    stores: new Set<string>(),
    indexes: new Map<string, unknown>(),
    groups: new Map<string, { GroupId: string; GroupName: string; SubDomain: string }>(),
    apis: new Map<string, Record<string, unknown>>(),
    /** ApiIds published (DeployApi) and not abolished. */
    deployed: new Set<string>(),
  };

  const deny = (action: string, resource: string, code = 'NoPermission') => {
    if (refused.has(action)) throw new CloudError(403, code, `You are not authorized to do this action. Resource: ${resource} Action: ${action}`);
  };

  // ----- RAM (RPC) -----
  const ram = (p: Record<string, string>): unknown => {
    const roleArn = (name: string) => `acs:ram::${accountId}:role/${name.toLowerCase()}`;
    const role = (name: string) => {
      const found = state.roles.get(name);
      if (!found) throw new CloudError(404, 'EntityNotExist.Role', `The role does not exist: ${name}.`);
      return found;
    };
    switch (p.Action) {
      case 'GetRole':
        return { Role: role(p.RoleName!) };
      case 'CreateRole': {
        deny('ram:CreateRole', `acs:ram:*:${accountId}:role/${p.RoleName}`);
        if (state.roles.has(p.RoleName!)) throw new CloudError(409, 'EntityAlreadyExists.Role', 'The role already exists.');
        const created = { RoleName: p.RoleName!, Arn: roleArn(p.RoleName!), AssumeRolePolicyDocument: p.AssumeRolePolicyDocument! };
        state.roles.set(p.RoleName!, created);
        return { Role: created };
      }
      case 'UpdateRole':
        deny('ram:UpdateRole', `acs:ram:*:${accountId}:role/${p.RoleName}`);
        role(p.RoleName!).AssumeRolePolicyDocument = p.NewAssumeRolePolicyDocument!;
        return { Role: role(p.RoleName!) };
      case 'GetPolicy': {
        if (p.PolicyType === 'System') return { Policy: { PolicyName: p.PolicyName, PolicyType: 'System' } };
        const versions = state.policies.get(p.PolicyName!);
        if (!versions) throw new CloudError(404, 'EntityNotExist.Policy', `The policy does not exist: ${p.PolicyName}.`);
        return { Policy: { PolicyName: p.PolicyName, PolicyType: 'Custom' }, DefaultPolicyVersion: { PolicyDocument: versions.at(-1) } };
      }
      case 'CreatePolicy':
        deny('ram:CreatePolicy', `acs:ram:*:${accountId}:policy/${p.PolicyName}`);
        if (state.policies.has(p.PolicyName!)) throw new CloudError(409, 'EntityAlreadyExists.Policy', 'The policy already exists.');
        state.policies.set(p.PolicyName!, [p.PolicyDocument!]);
        return { Policy: { PolicyName: p.PolicyName, PolicyType: 'Custom' } };
      case 'CreatePolicyVersion': {
        deny('ram:CreatePolicyVersion', `acs:ram:*:${accountId}:policy/${p.PolicyName}`);
        const versions = state.policies.get(p.PolicyName!);
        if (!versions) throw new CloudError(404, 'EntityNotExist.Policy', 'The policy does not exist.');
        versions.push(p.PolicyDocument!);
        return { PolicyVersion: { VersionId: `v${versions.length}`, IsDefaultVersion: true } };
      }
      case 'ListPoliciesForRole':
        role(p.RoleName!);
        return { Policies: { Policy: state.attached.get(p.RoleName!) ?? [] } };
      case 'AttachPolicyToRole': {
        deny('ram:AttachPolicyToRole', `acs:ram:*:${accountId}:role/${p.RoleName}`);
        role(p.RoleName!);
        if (p.PolicyType === 'Custom' && !state.policies.has(p.PolicyName!)) throw new CloudError(404, 'EntityNotExist.Policy', 'The policy does not exist.');
        const list = state.attached.get(p.RoleName!) ?? [];
        if (list.some((policy) => policy.PolicyName === p.PolicyName)) throw new CloudError(409, 'EntityAlreadyExists.Role.Policy', 'The policy is already attached.');
        state.attached.set(p.RoleName!, [...list, { PolicyName: p.PolicyName!, PolicyType: p.PolicyType! }]);
        return {};
      }
      case 'DetachPolicyFromRole': {
        deny('ram:DetachPolicyFromRole', `acs:ram:*:${accountId}:role/${p.RoleName}`);
        role(p.RoleName!);
        const list = state.attached.get(p.RoleName!) ?? [];
        if (!list.some((policy) => policy.PolicyName === p.PolicyName)) throw new CloudError(404, 'EntityNotExist.Role.Policy', 'The indicate policy attached to the role does not exist.');
        state.attached.set(p.RoleName!, list.filter((policy) => policy.PolicyName !== p.PolicyName));
        return {};
      }
      case 'DeleteRole':
        deny('ram:DeleteRole', `acs:ram:*:${accountId}:role/${p.RoleName}`);
        role(p.RoleName!);
        if ((state.attached.get(p.RoleName!) ?? []).length > 0) throw new CloudError(409, 'DeleteConflict.Role.Policy', 'The role cannot have any attached policies when you delete it.');
        state.roles.delete(p.RoleName!);
        state.attached.delete(p.RoleName!);
        return {};
      case 'DeletePolicy': {
        deny('ram:DeletePolicy', `acs:ram:*:${accountId}:policy/${p.PolicyName}`);
        const versions = state.policies.get(p.PolicyName!);
        if (!versions) throw new CloudError(404, 'EntityNotExist.Policy', 'The policy does not exist.');
        // The reference names DeleteConflict.Policy.User and .Group; a role is the same case.
        if ([...state.attached.values()].some((list) => list.some((policy) => policy.PolicyName === p.PolicyName))) {
          throw new CloudError(409, 'DeleteConflict.Policy.Role', 'The policy CAN NOT been attached to any role while deleting the policy.');
        }
        if (versions.length > 1 && p.CascadingDelete !== 'true') throw new CloudError(409, 'DeleteConflict.Policy.Version', 'The policy CAN NOT has any version except the defaul version.');
        state.policies.delete(p.PolicyName!);
        return {};
      }
      default:
        throw new CloudError(400, 'InvalidAction.NotFound', `Unknown action ${p.Action}`);
    }
  };

  // ----- API Gateway (RPC) -----
  const apigateway = (p: Record<string, string>, host: string): unknown => {
    const region = /^apigateway\.([a-z0-9-]+)\.aliyuncs\.com$/.exec(host)?.[1];
    const group = (id: string) => {
      const found = [...state.groups.values()].find((candidate) => candidate.GroupId === id);
      if (!found) throw new CloudError(404, 'NotFoundApiGroup', 'The group does not exist.');
      return found;
    };
    switch (p.Action) {
      case 'DescribeApiGroups': {
        const found = [...state.groups.values()].filter((candidate) => !p.GroupName || candidate.GroupName === p.GroupName);
        return { TotalCount: found.length, ApiGroupAttributes: { ApiGroupAttribute: found } };
      }
      case 'CreateApiGroup': {
        deny('apigateway:CreateApiGroup', `acs:apigateway:*:${accountId}:apigroup/*`);
        const created = { GroupId: randomUUID().replace(/-/g, ''), GroupName: p.GroupName!, SubDomain: `${randomUUID().slice(0, 8)}-${p.RegionId ?? 'cn-hangzhou'}.alicloudapi.com` };
        state.groups.set(p.GroupName!, created);
        return created;
      }
      case 'DescribeApis': {
        const found = [...state.apis.values()].filter((api) => api.GroupId === p.GroupId);
        return { TotalCount: found.length, ApiSummarys: { ApiSummary: found.map(({ GroupId, ApiId, ApiName }) => ({ GroupId, ApiId, ApiName })) } };
      }
      case 'CreateApi': {
        group(p.GroupId!);
        const ApiId = randomUUID().replace(/-/g, '');
        state.apis.set(ApiId, { ...p, ApiId });
        return { ApiId };
      }
      case 'ModifyApi':
        if (!state.apis.has(p.ApiId!)) throw new CloudError(404, 'NotFoundApi', 'The API does not exist.');
        state.apis.set(p.ApiId!, { ...p });
        return {};
      case 'DeployApi':
        if (!state.apis.has(p.ApiId!)) throw new CloudError(404, 'NotFoundApi', 'The API does not exist.');
        state.deployed.add(p.ApiId!);
        return {};
      case 'DescribeDeployedApis': {
        const found = [...state.apis.values()].filter((api) => api.GroupId === p.GroupId && state.deployed.has(String(api.ApiId)));
        const items = found.map(({ GroupId, ApiId, ApiName }) => ({ RegionId: region, GroupId, ApiId, ApiName, StageName: p.StageName }));
        return { TotalCount: items.length, DeployedApis: { DeployedApiItem: items } };
      }
      case 'AbolishApi':
        deny('apigateway:AbolishApi', `acs:apigateway:*:${accountId}:apigroup/${p.GroupId}`);
        if (!state.apis.has(p.ApiId!)) throw new CloudError(404, 'NotFoundApi', 'The API does not exist.');
        state.deployed.delete(p.ApiId!);
        return {};
      case 'DeleteApi':
        deny('apigateway:DeleteApi', `acs:apigateway:*:${accountId}:apigroup/${p.GroupId}`);
        if (!state.apis.has(p.ApiId!)) throw new CloudError(404, 'NotFoundApi', 'The API does not exist.');
        state.apis.delete(p.ApiId!);
        return {};
      case 'DeleteApiGroup': {
        deny('apigateway:DeleteApiGroup', `acs:apigateway:*:${accountId}:apigroup/${p.GroupId}`);
        state.groups.delete(group(p.GroupId!).GroupName);
        return {};
      }
      default:
        throw new CloudError(400, 'InvalidAction.NotFound', `Unknown action ${p.Action}`);
    }
  };

  // ----- Function Compute 2.0 (REST, /2016-08-15/...) -----
  const fc = (method: string, path: string, body: Record<string, unknown>): [string, unknown] => {
    const parts = path.replace(/^\/2016-08-15\//, '').split('/').map(decodeURIComponent);
    const [, service, , fn, , trigger] = parts;
    const fcDeny = (action: string, resource: string) => deny(action, `acs:fc:*:${accountId}:${resource}`, 'AccessDenied');
    const need = <T>(map: Map<string, T>, key: string, code: string): T => {
      const found = map.get(key);
      if (!found) throw new CloudError(404, code, `${code.replace('NotFound', '')} not found`);
      return found;
    };
    if (parts.length === 1 && method === 'POST') {
      const name = String(body.serviceName);
      fcDeny('fc:CreateService', `services/${name}`);
      if (state.services.has(name)) throw new CloudError(409, 'ServiceAlreadyExists', 'service already exists');
      state.services.set(name, body);
      return ['CreateService', { ...body, serviceId: randomUUID() }];
    }
    const within = <T>(map: Map<string, T>, prefix: string) => [...map.entries()].filter(([key]) => key.startsWith(prefix)).map(([, value]) => value);
    if (parts.length === 2) {
      if (method === 'GET') return ['GetService', need(state.services, service!, 'ServiceNotFound')];
      if (method === 'DELETE') {
        fcDeny('fc:DeleteService', `services/${service}`);
        need(state.services, service!, 'ServiceNotFound');
        state.services.delete(service!);
        return ['DeleteService', undefined];
      }
      if (method === 'PUT') {
        need(state.services, service!, 'ServiceNotFound');
        state.services.set(service!, { ...state.services.get(service!), ...body });
        return ['UpdateService', state.services.get(service!)];
      }
    }
    if (parts.length === 3 && method === 'POST') {
      need(state.services, service!, 'ServiceNotFound');
      const name = String(body.functionName);
      fcDeny('fc:CreateFunction', `services/${service}/functions/${name}`);
      if (state.functions.has(`${service}/${name}`)) throw new CloudError(409, 'FunctionAlreadyExists', 'function already exists');
      state.functions.set(`${service}/${name}`, body);
      return ['CreateFunction', { ...body, code: undefined }];
    }
    if (parts.length === 3 && method === 'GET') {
      need(state.services, service!, 'ServiceNotFound');
      return ['ListFunctions', { functions: within(state.functions, `${service}/`).map((found) => ({ ...found, code: undefined })) }];
    }
    if (parts.length === 4) {
      if (method === 'GET') return ['GetFunction', need(state.functions, `${service}/${fn}`, 'FunctionNotFound')];
      if (method === 'DELETE') {
        fcDeny('fc:DeleteFunction', `services/${service}/functions/${fn}`);
        need(state.services, service!, 'ServiceNotFound');
        need(state.functions, `${service}/${fn}`, 'FunctionNotFound');
        state.functions.delete(`${service}/${fn}`);
        return ['DeleteFunction', undefined];
      }
      if (method === 'PUT') {
        fcDeny('fc:UpdateFunction', `services/${service}/functions/${fn}`);
        need(state.functions, `${service}/${fn}`, 'FunctionNotFound');
        state.functions.set(`${service}/${fn}`, { ...state.functions.get(`${service}/${fn}`), ...body });
        return ['UpdateFunction', { ...body, code: undefined }];
      }
    }
    if (parts.length === 5 && method === 'POST') {
      need(state.functions, `${service}/${fn}`, 'FunctionNotFound');
      const name = String(body.triggerName);
      fcDeny('fc:CreateTrigger', `services/${service}/functions/${fn}/triggers/${name}`);
      if (state.triggers.has(`${service}/${fn}/${name}`)) throw new CloudError(409, 'TriggerAlreadyExists', 'trigger already exists');
      if (!['timer', 'tablestore', 'oss', 'http', 'log'].includes(String(body.triggerType))) throw new CloudError(400, 'InvalidArgument', `unknown triggerType ${String(body.triggerType)}`);
      if (body.triggerType === 'tablestore' && !(body.sourceArn && body.invocationRole)) throw new CloudError(400, 'InvalidArgument', 'a tablestore trigger needs sourceArn and invocationRole');
      state.triggers.set(`${service}/${fn}/${name}`, body);
      return ['CreateTrigger', body];
    }
    if (parts.length === 5 && method === 'GET') {
      need(state.functions, `${service}/${fn}`, 'FunctionNotFound');
      return ['ListTriggers', { triggers: within(state.triggers, `${service}/${fn}/`) }];
    }
    if (parts.length === 6) {
      if (method === 'GET') return ['GetTrigger', need(state.triggers, `${service}/${fn}/${trigger}`, 'TriggerNotFound')];
      if (method === 'DELETE') {
        fcDeny('fc:DeleteTrigger', `services/${service}/functions/${fn}/triggers/${trigger}`);
        need(state.services, service!, 'ServiceNotFound');
        need(state.functions, `${service}/${fn}`, 'FunctionNotFound');
        need(state.triggers, `${service}/${fn}/${trigger}`, 'TriggerNotFound');
        state.triggers.delete(`${service}/${fn}/${trigger}`);
        return ['DeleteTrigger', undefined];
      }
      if (method === 'PUT') {
        fcDeny('fc:UpdateTrigger', `services/${service}/functions/${fn}/triggers/${trigger}`);
        const existing = need(state.triggers, `${service}/${fn}/${trigger}`, 'TriggerNotFound');
        state.triggers.set(`${service}/${fn}/${trigger}`, { ...existing, ...body });
        return ['UpdateTrigger', state.triggers.get(`${service}/${fn}/${trigger}`)];
      }
    }
    throw new CloudError(404, 'PathNotSupported', `${method} ${path} is not part of this fake`);
  };

  // ----- Log Service (REST, project in the host) -----
  const log = (method: string, host: string, path: string, body: Record<string, unknown>): [string, unknown] => {
    const project = /^(.+)\.[a-z0-9-]+\.log\.aliyuncs\.com$/.exec(host)?.[1];
    const store = /^\/logstores\/([^/]+)/.exec(path)?.[1];
    const key = `${project}/${store}`;
    if (method === 'POST' && path === '/' && !project) {
      deny('log:CreateProject', `acs:log:*:${accountId}:project/${String(body.projectName)}`);
      state.projects.add(String(body.projectName));
      return ['CreateProject', undefined];
    }
    if (!project || !state.projects.has(project)) throw new CloudError(404, 'ProjectNotExist', `Project ${project} does not exist`);
    if (path === '/' && method === 'GET') return ['GetProject', { projectName: project, status: 'Normal' }];
    if (path === '/logstores' && method === 'POST') {
      state.stores.add(`${project}/${String(body.logstoreName)}`);
      return ['CreateLogStore', undefined];
    }
    if (!state.stores.has(key)) throw new CloudError(404, 'LogStoreNotExist', `logstore ${store} does not exist`);
    if (path === `/logstores/${store}` && method === 'GET') return ['GetLogStore', { logstoreName: store, ttl: 30, shardCount: 2 }];
    if (path === `/logstores/${store}/index`) {
      if (method === 'GET') {
        if (!state.indexes.has(key)) throw new CloudError(404, 'IndexConfigNotExist', 'index config does not exist');
        return ['GetIndex', state.indexes.get(key)];
      }
      if (method === 'POST' || method === 'PUT') {
        deny(method === 'POST' ? 'log:CreateIndex' : 'log:UpdateIndex', `acs:log:*:${accountId}:project/${project}/logstore/${store}`);
        if (method === 'PUT' && !state.indexes.has(key)) throw new CloudError(404, 'IndexConfigNotExist', 'index config does not exist');
        state.indexes.set(key, body);
        return [method === 'POST' ? 'CreateIndex' : 'UpdateIndex', undefined];
      }
    }
    throw new CloudError(404, 'PathNotSupported', `${method} ${path} is not part of this fake`);
  };

  // ----- OSS (REST, XML; bucket in the host) -----
  const oss = (method: string, host: string, path: string, headers: IncomingMessage['headers'], body: Buffer): [string, string | undefined] => {
    const bucket = /^(.+)\.oss-[a-z0-9-]+\.aliyuncs\.com$/.exec(host)?.[1];
    if (!bucket && method === 'GET' && path.split('?')[0] === '/') {
      const prefix = new URL(path, 'https://x').searchParams.get('prefix') ?? '';
      const buckets = [...state.buckets].filter((name) => name.startsWith(prefix));
      const items = buckets.map((name) => `<Bucket><Name>${name}</Name><Location>oss-x</Location><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket>`).join('');
      return ['ListBuckets', `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Owner><ID>${accountId}</ID></Owner><Buckets>${items}</Buckets></ListAllMyBucketsResult>`];
    }
    if (bucket && method === 'PUT' && path === '/') {
      deny('oss:PutBucket', `acs:oss:*:${accountId}:${bucket}`, 'AccessDenied');
      state.buckets.add(bucket);
      return ['PutBucket', undefined];
    }
    if (bucket && method === 'PUT') {
      if (!state.buckets.has(bucket)) throw new CloudError(404, 'NoSuchBucket', 'The specified bucket does not exist.');
      const md5 = headers['content-md5'];
      if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) throw new CloudError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
      state.objects.set(`${bucket}${decodeURIComponent(path)}`, body);
      return ['PutObject', undefined];
    }
    const [pathname, search = ''] = path.split('?');
    const keys = () => [...state.objects.keys()].filter((key) => key.startsWith(`${bucket}/`)).map((key) => key.slice(bucket!.length + 1));
    if (bucket && pathname === '/' && !state.buckets.has(bucket)) throw new CloudError(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    if (bucket && method === 'GET' && pathname === '/') {
      deny('oss:ListObjects', `acs:oss:*:${accountId}:${bucket}`, 'AccessDenied');
      const prefix = new URLSearchParams(search).get('prefix') ?? '';
      const contents = keys()
        .filter((key) => key.startsWith(prefix))
        .map((key) => {
          const object = state.objects.get(`${bucket}/${key}`)!;
          const etag = `"${createHash('md5').update(object).digest('hex').toUpperCase()}"`;
          return `<Contents><Key>${xmlEscape(key)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>${etag}</ETag><Type>Normal</Type><Size>${object.length}</Size><StorageClass>Standard</StorageClass><Owner><ID>${accountId}</ID><DisplayName>${accountId}</DisplayName></Owner></Contents>`;
        });
      return ['ListObjects', `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><Delimiter></Delimiter><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`];
    }
    if (bucket && method === 'POST' && pathname === '/' && new URLSearchParams(search).has('delete')) {
      deny('oss:DeleteObject', `acs:oss:*:${accountId}:${bucket}/*`, 'AccessDenied');
      // DeleteMultipleObjects requires a Content-MD5 of its body.
      if (headers['content-md5'] !== createHash('md5').update(body).digest('base64')) throw new CloudError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
      const named = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => xmlUnescape(match[1]!));
      for (const key of named) state.objects.delete(`${bucket}/${key}`);
      const quiet = /<Quiet>true<\/Quiet>/.test(body.toString('utf8'));
      const deleted = quiet ? '' : named.map((key) => `<Deleted><Key>${xmlEscape(key)}</Key></Deleted>`).join('');
      return ['DeleteMultipleObjects', `<?xml version="1.0" encoding="UTF-8"?><DeleteResult>${deleted}</DeleteResult>`];
    }
    if (bucket && method === 'DELETE' && pathname === '/') {
      deny('oss:DeleteBucket', `acs:oss:*:${accountId}:${bucket}`, 'AccessDenied');
      if (keys().length > 0) throw new CloudError(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.');
      state.buckets.delete(bucket);
      return ['DeleteBucket', undefined];
    }
    throw new CloudError(404, 'PathNotSupported', `${method} ${path} is not part of this fake`);
  };

  const serviceOf = (host: string): string => {
    if (!host.endsWith('.aliyuncs.com')) return 'other';
    if (host === 'ram.aliyuncs.com') return 'ram';
    if (/\.fc\.aliyuncs\.com$/.test(host)) return 'fc';
    if (/\.log\.aliyuncs\.com$/.test(host)) return 'log';
    if (/\.ots\.aliyuncs\.com$/.test(host)) return 'ots';
    if (/^apigateway\./.test(host)) return 'apigateway';
    if (/(^|\.)oss-[a-z0-9-]+\.aliyuncs\.com$/.test(host)) return 'oss';
    return 'other';
  };

  const handle = (scheme: 'https' | 'http') => (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
      const url = req.url ?? '/';
      const service = serviceOf(host);
      const call: CloudCall = { scheme, host, method: req.method ?? 'GET', url, service, action: '', headers: req.headers, body, params: {}, status: 200 };
      calls.push(call);
      if (service === 'ots' && tablestore) {
        call.action = url.slice(1).split('?')[0] ?? '';
        forward(tablestore, req, body, res, call);
        return;
      }
      const send = (reply: Reply) => {
        call.status = reply.status ?? 200;
        const headers: Record<string, string> = { 'x-acs-request-id': randomUUID(), 'x-fc-request-id': randomUUID(), 'x-log-requestid': randomUUID() };
        if (reply.xml !== undefined) {
          res.writeHead(call.status, { ...headers, 'content-type': 'application/xml' }).end(reply.xml);
        } else if (reply.json !== undefined) {
          res.writeHead(call.status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(reply.json));
        } else {
          res.writeHead(call.status, headers).end();
        }
      };
      try {
        const query = Object.fromEntries(new URL(url, 'https://x').searchParams);
        const json = (): Record<string, unknown> => {
          try {
            return body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
          } catch {
            return {};
          }
        };
        if (service === 'ram' || service === 'apigateway') {
          const params = req.method === 'POST' ? { ...query, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) } : query;
          call.params = params;
          call.action = params.Action ?? '';
          send({ json: { RequestId: randomUUID(), ...((service === 'ram' ? ram(params) : apigateway(params, host)) as object) } });
        } else if (service === 'fc') {
          call.params = json();
          const [action, reply] = fc(call.method, url.split('?')[0]!, call.params);
          call.action = action;
          send({ status: action.startsWith('Create') ? 201 : action.startsWith('Delete') ? 204 : 200, json: reply });
        } else if (service === 'log') {
          call.params = json();
          const [action, reply] = log(call.method, host, url.split('?')[0]!, call.params);
          call.action = action;
          send({ json: reply });
        } else if (service === 'oss') {
          const [action, xml] = oss(call.method, host, url, req.headers, body);
          call.action = action;
          send({ status: action === 'DeleteBucket' ? 204 : 200, xml });
        } else {
          call.action = `${call.method} ${url.split('?')[0]}`;
          send({ status: 200 });
        }
      } catch (error) {
        if (!(error instanceof CloudError)) throw error;
        call.action ||= describe(service, call.method, url, call.params);
        call.status = error.status;
        if (service === 'oss') {
          send({ status: error.status, xml: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${error.code}</Code><Message>${error.message}</Message><RequestId>${randomUUID()}</RequestId></Error>` });
        } else if (service === 'log') {
          send({ status: error.status, json: { errorCode: error.code, errorMessage: error.message } });
        } else if (service === 'fc') {
          send({ status: error.status, json: { ErrorCode: error.code, ErrorMessage: error.message } });
        } else {
          send({ status: error.status, json: { Code: error.code, Message: error.message, RequestId: randomUUID() } });
        }
      }
    });
  };

  const tls = { key: readFileSync(KEY), cert: readFileSync(ALIYUN_FAKE_CA) };
  const https = createHttpsServer(
    {
      ...tls,
      SNICallback: (name, callback) => {
        serverNames.push(name);
        callback(null);
      },
    },
    handle('https'),
  );
  const http = createHttpServer(handle('http'));
  const servers = [https, http];
  for (const server of servers) server.keepAliveTimeout = 100;
  const port = Number(new URL(await listenOnLoopback(https)).port);
  const httpPort = Number(new URL(await listenOnLoopback(http)).port);
  return {
    port,
    httpPort,
    calls,
    serverNames,
    refuse: (...actions) => actions.forEach((action) => refused.add(action)),
    allow: (...actions) => actions.forEach((action) => refused.delete(action)),
    putObject: (bucket, key, body) => {
      state.buckets.add(bucket);
      state.objects.set(`${bucket}/${key}`, body);
    },
    holdings: () => ({
      roles: [...state.roles.keys()],
      policies: [...state.policies.keys()],
      services: [...state.services.keys()],
      functions: [...state.functions.keys()],
      triggers: [...state.triggers.keys()],
      buckets: [...state.buckets],
      objects: [...state.objects.keys()],
      apiGroups: [...state.groups.keys()],
      apis: [...state.apis.values()].map((api) => String(api.ApiName)),
      logStores: [...state.stores],
    }),
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** The operation name of a call that failed before its handler named it (a lookup of something missing). */
function describe(service: string, method: string, url: string, params: Record<string, unknown>): string {
  const path = url.split('?')[0]!;
  const fcActions: Record<string, string[]> = { GET: ['GetService', 'ListFunctions', 'GetFunction', 'ListTriggers', 'GetTrigger'], DELETE: ['DeleteService', '', 'DeleteFunction', '', 'DeleteTrigger'] };
  if (service === 'fc' && fcActions[method]) return fcActions[method][path.split('/').length - 4] || `${method} ${path}`;
  if (service === 'log' && method === 'GET') return path === '/' ? 'GetProject' : path.endsWith('/index') ? 'GetIndex' : 'GetLogStore';
  return String(params.Action ?? `${method} ${path}`);
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const xmlEscape = (text: string) => text.replace(/[&<>"']/g, (char) => XML_ENTITIES[char]!);
const xmlUnescape = (text: string) => text.replace(/&(amp|lt|gt|quot|apos);/g, (entity) => Object.keys(XML_ENTITIES).find((char) => XML_ENTITIES[char] === entity)!);

/** Forwards a Tablestore request to the local Tablestore server as it came, and its answer back. */
function forward(base: string, req: IncomingMessage, body: Buffer, res: ServerResponse, call: CloudCall): void {
  const target = new URL(req.url ?? '/', base);
  const upstream = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    call.status = answer.statusCode ?? 502;
    res.writeHead(call.status, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.writeHead(502).end());
  upstream.end(body);
}
