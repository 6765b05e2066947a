import AdmZip from 'adm-zip';
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { register } from 'tsx/cjs/api';
import { readAll, type Environment } from '../../core/environment';
import { ConfigError, type ConfigProblem } from '../../core/errors';
import { scheduledApiCallsReport, type DeploymentSchedules } from '../../core/quota';
import { loadRecoverSettings } from '../../core/recover';
import { leaseMs, STREAM_LEASES } from '../../core/stream-lease';
import { loadStreamSettings } from '../../core/stream-settings';
import { loadSettings } from '../../core/settings';
import { ALIYUN_TABLES } from '../../core/table-names';
import { deleteTrigger, ensureTrigger, functionArns, TRIGGER_EVENT_SCHEMAS, triggerSpecs, type FcTriggerClient, type TimerEvent } from './fc-triggers';
import { functionBundleOptions } from './function-bundle';
import { LOG_INDEX, ensureLogIndex, type LogIndexClient } from './log-index';
import { explainRefusals, secureProviderClients, type ClientName, type PermissionMap } from './provider-patches';
import { ensureRole, removeRole, type RamClient, type RoleRemoval, type RoleSpec } from './ram-roles';
import { tablestoreWriterSettings } from '../../providers/aliyun/settings';

/** The parts of Serverless v3 and of serverless-aliyun-function-compute's provider that the bridge uses. */
interface Serverless {
  service: {
    service: string;
    provider: { credentials?: string; region?: string; runtime?: string; environment?: Record<string, unknown>; ramRoleStatements?: object[]; compiledConfigurationTemplate: Template };
    package?: { artifact?: string };
    getAllFunctions(): string[];
    getFunction(name: string): { name: string; handler: string; environment?: Record<string, unknown>; events?: Array<Record<string, unknown>> };
  };
  config: { servicePath: string };
  cli: { log(message: string): void };
  classes: { Error: new (message: string) => Error };
  configSchemaHandler: { defineProvider(name: string, schema: object): void };
  processedInput: { commands: string[] };
  getProvider(name: 'aliyun'): AliyunProvider;
}
interface AliyunProvider {
  key: { aliyun_account_id: string; aliyun_access_key_id: string; aliyun_access_key_secret: string };
  options: { region?: string };
  ramClient: RamClient;
  fcClient: FcTriggerClient;
  slsClient: LogIndexClient;
  ossClient: never;
  resetOssClient(bucket: string): never;
  uploadObject(name: string, path: string): Promise<unknown>;
  getServiceName(): string;
  getFunctionLogicalId(name: string): string;
  getExecRoleLogicalId(): string;
  getInvokeRoleLogicalId(): string;
  getExecRoleName(): string;
  getExecRolePolicyName(): string;
  getInvokeRoleName(): string;
  getLogIndexResource(): { Type: string; Properties: Record<string, unknown> };
  getLogProjectName(): string;
  getLogStoreName(): string;
  getDeploymentBucketName(): string;
}
interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/**
 * The `tablestore` SDK's client and the deploy's table provisioning, loaded when a deploy makes its
 * tables: the SDK costs ~0.5 s of CPU to load, which `sls package`, `sls remove` and a deploy
 * refused before its tables never need. The bridge runs through tsx (serverless-bridge.cjs), which
 * compiles these modules on the way in as it did the bridge.
 */
function tablestoreProvisioning(): typeof import('./tablestore-tables') & typeof import('../../providers/aliyun/tablestore-client') {
  const unregister = register();
  try {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use through tsx's require hook, which a dynamic import() would bypass */
    return { ...(require('./tablestore-tables') as typeof import('./tablestore-tables')), ...(require('../../providers/aliyun/tablestore-client') as typeof import('../../providers/aliyun/tablestore-client')) };
    /* eslint-enable @typescript-eslint/no-require-imports */
  } finally {
    unregister();
  }
}

/** The function's only Tablestore call: the conditional insert of core's pipeline. */
const TABLESTORE_ACTIONS = ['ots:PutRow'];
/** The system policy the provider gives API Gateway's invoke role: any function of the account. Replaced by a scoped one. */
const BROAD_INVOKE_POLICY = 'AliyunFCInvocationAccess';
/** `recover` keeps each failed-list reply in its inbox table until stored (docs/recover.md). */
const INBOX_ACTIONS = ['ots:PutRow', 'ots:GetRange', 'ots:DeleteRow'];

const ENVIRONMENT = { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } };
const HTTP_EVENT = { type: 'object', properties: { path: { type: 'string' }, method: { type: 'string' } }, required: ['path'] };
/** The configuration serverless-aliyun-function-compute reads; it declares none, so Serverless would not check any. */
const PROVIDER_SCHEMA = {
  provider: {
    properties: {
      runtime: { type: 'string' },
      region: { type: 'string' },
      credentials: { type: 'string' },
      memorySize: { type: 'integer' },
      timeout: { type: 'integer' },
      environment: ENVIRONMENT,
      ramRoleStatements: { type: 'array', items: { type: 'object' } },
    },
  },
  function: { properties: { handler: { type: 'string' }, memorySize: { type: 'integer' }, timeout: { type: 'integer' }, environment: ENVIRONMENT } },
  functionEvents: { http: HTTP_EVENT, https: HTTP_EVENT, oss: { type: 'object' }, ...TRIGGER_EVENT_SCHEMAS },
};

/**
 * A local Serverless plugin that fills the gaps of serverless-aliyun-function-compute 1.2.6 for this
 * service: it bundles each handler with esbuild into a zip holding nothing else, gives the functions
 * their environment variables, grants their RAM role `ots:PutRow` on the events table and nothing
 * more, scopes API Gateway's invoke role to this service's functions, indexes the fields the
 * functions log, and on deploy makes the RAM roles first (so a missing permission stops the deploy
 * before anything else changes), then the Tablestore table and indexes when missing, and after the
 * provider the `timer` and `tablestore` triggers. On remove it deletes what it made and the provider
 * leaves (those triggers, and every role with its policies), never a Tablestore table. It makes the
 * provider's clients use HTTPS, mutes its analytics (see provider-patches.ts), refuses `sls deploy
 * function`, and declares the provider's configuration schema, which the provider plugin lacks.
 */
export class AliyunBridge {
  readonly hooks: Record<string, () => Promise<void>>;
  /** The ARNs of the roles made on this deploy, by role name. */
  private readonly roleArns = new Map<string, string>();

  constructor(
    private readonly serverless: Serverless,
    private readonly options: { region?: string },
  ) {
    serverless.configSchemaHandler.defineProvider('aliyun', PROVIDER_SCHEMA);
    this.hooks = {
      initialize: async () => this.patchProvider(),
      'before:package:initialize': async () => {
        // Both refusals at once when both apply: one run tells all that is missing.
        const credentials = this.credentialsProblem();
        try {
          this.grantTablestore();
        } catch (error) {
          throw credentials ? new this.serverless.classes.Error(`${(error as Error).message}\n${credentials}`) : error;
        }
        if (credentials) throw new this.serverless.classes.Error(credentials);
      },
      'before:package:createDeploymentArtifacts': () => this.bundle(),
      'after:package:compileFunctions': async () => this.completeTemplate(),
      'before:deploy:deploy': () => this.provision(),
      'after:deploy:deploy': () => this.finish(),
      // The bridge's hooks of an event run before the provider's (it is listed first in `plugins:`):
      // its triggers go before the provider deletes the functions, the roles once nothing uses them.
      'remove:remove': () => this.removeTriggers(),
      'after:remove:remove': () => this.removeRoles(),
      'deploy:function:initialize': async () => {
        throw new serverless.classes.Error(
          '`sls deploy function` is not supported on Alibaba Cloud: the provider plugin cannot package one function. Run `sls deploy --config serverless.aliyun.yml` (it updates every function, its triggers and the API).',
        );
      },
    };
  }

  /** The deploy's region: the provider plugin fills `options.region` only once its own hooks ran. */
  private get region(): string {
    return this.options.region ?? this.serverless.service.provider.region ?? 'cn-hangzhou';
  }

  private log(message: string): void {
    this.serverless.cli.log(message);
  }

  /**
   * HTTPS clients, one clear line for a refused permission (see provider-patches.ts), and a log index
   * over the fields the functions log (the provider writes it into its template before any hook of
   * the bridge could change that template).
   */
  private patchProvider(): void {
    const provider = this.serverless.getProvider('aliyun');
    if (!provider) return;
    const logIndex = provider.getLogIndexResource.bind(provider);
    provider.getLogIndexResource = () => {
      const resource = logIndex();
      return { ...resource, Properties: { ...resource.Properties, ...LOG_INDEX } };
    };
    const region = () => provider.options.region ?? '*';
    const account = () => provider.key.aliyun_account_id;
    const role = (name: string) => `acs:ram::${account()}:role/${name}`;
    const fn = (service: string, name = '*') => `acs:fc:${region()}:${account()}:services/${service}/functions/${name}`;
    const permissions: PermissionMap = {
      createRole: (spec: { RoleName: string }) => ['ram:CreateRole', role(spec.RoleName)],
      createPolicy: (spec: { PolicyName: string }) => ['ram:CreatePolicy', `acs:ram::${account()}:policy/${spec.PolicyName}`],
      attachPolicyToRole: (spec: { RoleName: string }) => ['ram:AttachPolicyToRole', role(spec.RoleName)],
      getRole: (name: string) => ['ram:GetRole', role(name)],
      getPolicy: (name: string) => ['ram:GetPolicy', `acs:ram::${account()}:policy/${name}`],
      getPoliciesForRole: (name: string) => ['ram:ListPoliciesForRole', role(name)],
      getLogProject: (project: string) => ['log:GetProject', `acs:log:${region()}:${account()}:project/${project}`],
      createLogProject: (project: string) => ['log:CreateProject', `acs:log:${region()}:${account()}:project/${project}`],
      getLogStore: (project: string, store: string) => ['log:GetLogStore', `acs:log:${region()}:${account()}:project/${project}/logstore/${store}`],
      createLogStore: (project: string, store: string) => ['log:CreateLogStore', `acs:log:${region()}:${account()}:project/${project}/logstore/${store}`],
      getLogIndex: (project: string, store: string) => ['log:GetIndex', `acs:log:${region()}:${account()}:project/${project}/logstore/${store}`],
      createLogIndex: (project: string, store: string) => ['log:CreateIndex', `acs:log:${region()}:${account()}:project/${project}/logstore/${store}`],
      getService: (service: string) => ['fc:GetService', `acs:fc:${region()}:${account()}:services/${service}`],
      createService: (service: string) => ['fc:CreateService', `acs:fc:${region()}:${account()}:services/${service}`],
      getFunction: (service: string, name: string) => ['fc:GetFunction', fn(service, name)],
      createFunction: (service: string, name: string) => ['fc:CreateFunction', fn(service, name)],
      updateFunction: (service: string, name: string) => ['fc:UpdateFunction', fn(service, name)],
      getBucket: () => ['oss:ListBuckets', `acs:oss:*:${account()}:*`],
      createBucket: (bucket: string) => ['oss:PutBucket', `acs:oss:*:${account()}:${bucket}`],
      uploadObject: (name: string) => ['oss:PutObject', `acs:oss:*:${account()}:${provider.getDeploymentBucketName()}/${name}`],
      getApiGroup: () => ['apigateway:DescribeApiGroups', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      createApiGroup: () => ['apigateway:CreateApiGroup', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      getApis: () => ['apigateway:DescribeApis', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      createApi: () => ['apigateway:CreateApi', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      updateApi: () => ['apigateway:ModifyApi', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      deployApi: () => ['apigateway:DeployApi', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      // `sls remove`
      getDeployedApis: () => ['apigateway:DescribeDeployedApis', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      abolishApi: () => ['apigateway:AbolishApi', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      deleteApi: () => ['apigateway:DeleteApi', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      deleteApiGroup: () => ['apigateway:DeleteApiGroup', `acs:apigateway:${region()}:${account()}:apigroup/*`],
      getObjects: () => ['oss:ListObjects', `acs:oss:*:${account()}:${provider.getDeploymentBucketName()}`],
      deleteObjects: () => ['oss:DeleteObject', `acs:oss:*:${account()}:${provider.getDeploymentBucketName()}/*`],
      deleteBucket: (bucket: string) => ['oss:DeleteBucket', `acs:oss:*:${account()}:${bucket}`],
    };
    const fail = (message: string) => new this.serverless.classes.Error(message);
    // Said at the end of the line: what to run once the permission is granted.
    const command = this.serverless.processedInput.commands.join(' ') || 'deploy';
    explainRefusals(provider, permissions, fail, command);
    // The bridge's own calls (RAM roles are made first, see provision()).
    const policy = (name: string) => `acs:ram::${account()}:policy/${name}`;
    const clients: Partial<Record<ClientName, PermissionMap>> = {};
    clients.ramClient = {
      getRole: (params: { RoleName: string }) => ['ram:GetRole', role(params.RoleName)],
      createRole: (params: { RoleName: string }) => ['ram:CreateRole', role(params.RoleName)],
      getPolicy: (params: { PolicyName: string }) => ['ram:GetPolicy', policy(params.PolicyName)],
      createPolicy: (params: { PolicyName: string }) => ['ram:CreatePolicy', policy(params.PolicyName)],
      createPolicyVersion: (params: { PolicyName: string }) => ['ram:CreatePolicyVersion', policy(params.PolicyName)],
      listPoliciesForRole: (params: { RoleName: string }) => ['ram:ListPoliciesForRole', role(params.RoleName)],
      attachPolicyToRole: (params: { RoleName: string }) => ['ram:AttachPolicyToRole', role(params.RoleName)],
      detachPolicyFromRole: (params: { RoleName: string }) => ['ram:DetachPolicyFromRole', role(params.RoleName)],
      deleteRole: (params: { RoleName: string }) => ['ram:DeleteRole', role(params.RoleName)],
      deletePolicy: (params: { PolicyName: string }) => ['ram:DeletePolicy', policy(params.PolicyName)],
    };
    clients.fcClient = {
      getTrigger: (service: string, name: string) => ['fc:GetTrigger', `${fn(service, name)}/triggers/*`],
      createTrigger: (service: string, name: string) => ['fc:CreateTrigger', `${fn(service, name)}/triggers/*`],
      updateTrigger: (service: string, name: string) => ['fc:UpdateTrigger', `${fn(service, name)}/triggers/*`],
      // `sls remove`: the bridge's and the provider's calls alike.
      listFunctions: (service: string) => ['fc:ListFunctions', fn(service)],
      listTriggers: (service: string, name: string) => ['fc:ListTriggers', `${fn(service, name)}/triggers/*`],
      deleteTrigger: (service: string, name: string) => ['fc:DeleteTrigger', `${fn(service, name)}/triggers/*`],
      deleteFunction: (service: string, name: string) => ['fc:DeleteFunction', fn(service, name)],
      deleteService: (service: string) => ['fc:DeleteService', `acs:fc:${region()}:${account()}:services/${service}`],
    };
    clients.slsClient = {
      getIndexConfig: (project: string, store: string) => ['log:GetIndex', `acs:log:${region()}:${account()}:project/${project}/logstore/${store}`],
      updateIndex: (project: string, store: string) => ['log:UpdateIndex', `acs:log:${region()}:${account()}:project/${project}/logstore/${store}`],
    };
    secureProviderClients(provider, (name, client) => {
      const map = clients[name];
      if (map) explainRefusals(client, map, fail, command);
    });
  }

  /**
   * Each function's environment: the service's, then its own; values as strings. A table variable a
   * function declares but leaves blank (`RECOVER_INBOX_TABLE`, `DINGTALK_DEAD_LETTER_TABLE`) gets its
   * default name beside the events table (`core/table-names.ts`).
   */
  private environments(): Array<{ name: string; env: Record<string, string> }> {
    const { service } = this.serverless;
    return service.getAllFunctions().map((key) => {
      const fn = service.getFunction(key);
      const env: Record<string, string> = Object.fromEntries(
        Object.entries({ ...service.provider.environment, ...fn.environment })
          .filter(([, value]) => value !== undefined && value !== null)
          .map(([name, value]) => [name, String(value)]),
      );
      if (env.EVENTS_TABLE?.trim()) {
        if (env.RECOVER_INBOX_TABLE?.trim() === '') env.RECOVER_INBOX_TABLE = ALIYUN_TABLES.inboxOf(env.EVENTS_TABLE);
        if (env.DINGTALK_DEAD_LETTER_TABLE?.trim() === '') env.DINGTALK_DEAD_LETTER_TABLE = ALIYUN_TABLES.deadLettersOf(env.EVENTS_TABLE);
      }
      return { name: fn.name, env };
    });
  }

  /**
   * Checks the settings as each function will at cold start, so a bad one fails the package, not
   * the first push; one message names every variable at fault, in all the functions. The recover
   * function's DingTalk app is checked only while its timer is on.
   */
  private check(functions: ReadonlyArray<{ name: string; env: Environment }>): void {
    const problems = new Map<string, ConfigProblem>();
    for (const { name, env } of functions) {
      const pulls = env.RECOVER_INBOX_TABLE !== undefined && this.scheduled(name);
      const relays = env.DINGTALK_STREAM_LEASE_SECONDS !== undefined && this.scheduled(name);
      try {
        readAll(
          () => loadSettings(env),
          () => tablestoreWriterSettings(env),
          () => (pulls ? loadRecoverSettings(env) : undefined),
          () => (relays ? readAll(() => loadStreamSettings(env), () => leaseMs(env, STREAM_LEASES.aliyun.leaseSeconds)) : undefined),
        );
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        for (const problem of error.problems) problems.set(`${problem.variable}: ${problem.problem}`, problem);
      }
    }
    if (problems.size === 0) return;
    const error = new ConfigError([...problems.values()]);
    const app = error.problems.some((problem) => /^DINGTALK_(APP|SUITE)_/.test(problem.variable));
    const off = app
      ? '; DINGTALK_RECOVER_ENABLED=false deploys `recover` with its timer off, pulling nothing (docs/recover.md), and DINGTALK_STREAM_ENABLED=false `stream` with its timer off (docs/stream.md)'
      : '';
    throw new this.serverless.classes.Error(`${error.message} (the function gets its settings from the environment of \`sls package\` / \`sls deploy\`)${off}`);
  }

  /** Whether the function deployed as `name` has a timer that is on. */
  private scheduled(name: string): boolean {
    return this.timer(name) !== undefined;
  }

  /** The timer of the function deployed as `name`, when it has one that is on. */
  private timer(name: string): TimerEvent | undefined {
    const { service } = this.serverless;
    const key = service.getAllFunctions().find((each) => service.getFunction(each).name === name);
    const events = key === undefined ? [] : (service.getFunction(key).events ?? []);
    return events.map((event) => event.timer as TimerEvent | undefined).find((timer) => timer !== undefined && timer.enable !== false);
  }

  /** Says what the recover and stream timers that are on cost in DingTalk server-API calls (core/quota.ts). */
  private logApiBudget(functions: ReadonlyArray<{ name: string; env: Environment }>): void {
    const schedules: DeploymentSchedules = {};
    const scheduled = functions.filter(({ env }) => env.RECOVER_INBOX_TABLE !== undefined || env.DINGTALK_STREAM_LEASE_SECONDS !== undefined);
    if (scheduled.length === 0) return;
    for (const { name, env } of scheduled) {
      const schedule = this.timer(name)?.cronExpression;
      if (env.RECOVER_INBOX_TABLE !== undefined) schedules.recover = schedule;
      if (env.DINGTALK_STREAM_LEASE_SECONDS !== undefined) schedules.stream = schedule;
    }
    for (const line of scheduledApiCallsReport('aliyun', schedules)) this.log(line);
  }

  /** The provider plugin reads its credentials file even to package: name the file and what it must hold, not its stack trace. */
  private credentialsProblem(): string | undefined {
    try {
      void this.serverless.getProvider('aliyun')?.key;
      return undefined;
    } catch (error) {
      const file = this.serverless.service.provider.credentials;
      return `cannot read the Alibaba Cloud credentials file ${file} (${(error as Error).message}): it must be an ini file whose [default] section sets aliyun_account_id, aliyun_access_key_id and aliyun_access_key_secret; ALIYUN_CREDENTIALS_FILE names another file`;
    }
  }

  /** Adds the PutRow grant to the exec role, through the provider's own `ramRoleStatements`. */
  private grantTablestore(): void {
    const region = this.region;
    const resources = new Set<string>();
    const inboxes = new Set<string>();
    const tickets = new Set<string>();
    const functions = this.environments();
    this.check(functions);
    this.logApiBudget(functions);
    for (const { env } of functions) {
      // RAM matches Tablestore instance names in lower case.
      const table = (name: string) => `acs:ots:${region}:*:instance/${env.TABLESTORE_INSTANCE!.toLowerCase()}/table/${name}`;
      resources.add(table(env.EVENTS_TABLE!));
      // The forward function's dead letters (docs/forward.md).
      if (env.DINGTALK_DEAD_LETTER_TABLE) resources.add(table(env.DINGTALK_DEAD_LETTER_TABLE));
      if (env.RECOVER_INBOX_TABLE) {
        inboxes.add(table(env.RECOVER_INBOX_TABLE));
        // An ISV suite's token needs its latest suite_ticket: one row (docs/isv.md), or for a table
        // from before that row was kept, one range read of the type index.
        inboxes.add(table(ALIYUN_TABLES.typeIndexOf(env.EVENTS_TABLE!)));
        tickets.add(table(env.EVENTS_TABLE!));
      }
    }
    const { provider } = this.serverless.service;
    // The provider gives every function of the service one role, so the inbox grant is the service's too.
    const statements = [{ Effect: 'Allow', Action: TABLESTORE_ACTIONS, Resource: [...resources] }];
    if (inboxes.size > 0) statements.push({ Effect: 'Allow', Action: INBOX_ACTIONS, Resource: [...inboxes] });
    if (tickets.size > 0) statements.push({ Effect: 'Allow', Action: ['ots:GetRow'], Resource: [...tickets] });
    provider.ramRoleStatements = [...(provider.ramRoleStatements ?? []), ...statements];
  }

  /** Bundles every handler file for the runtime's Node.js and zips the bundles alone as the service artifact. */
  private async bundle(): Promise<void> {
    const { service, config } = this.serverless;
    const version = /^nodejs(\d+)$/.exec(service.provider.runtime ?? '')?.[1];
    if (!version) throw new this.serverless.classes.Error(`provider.runtime must be a Function Compute Node.js runtime such as nodejs20, not ${service.provider.runtime}`);
    const zip = new AdmZip();
    const files = new Set(service.getAllFunctions().map((key) => service.getFunction(key).handler.replace(/\.[^./]+$/, '')));
    for (const file of files) {
      const entry = ['.ts', '.js'].map((extension) => join(config.servicePath, file + extension)).find((path) => existsSync(path));
      if (!entry) throw new this.serverless.classes.Error(`no ${file}.ts or ${file}.js for the handler ${file}`);
      const { outputFiles } = await build({ ...functionBundleOptions(version), entryPoints: [entry], outfile: join(config.servicePath, `${file}.js`), write: false });
      zip.addFile(`${file}.js`, Buffer.from(outputFiles[0]!.contents));
    }
    const artifact = join(config.servicePath, '.serverless', `${service.service}.zip`);
    mkdirSync(dirname(artifact), { recursive: true });
    zip.writeZip(artifact);
    (service.package ??= {}).artifact = artifact;
    this.serverless.cli.log(`Bundled ${[...files].join(', ')} into ${relative(config.servicePath, artifact)}`);
  }

  /**
   * What the provider's template lacks: each function's `environmentVariables` (FC's createFunction
   * takes them; the provider never sets them), an invoke role for API Gateway that may invoke
   * this service's functions only, and, for the record, the `timer` and `tablestore` triggers the
   * deploy makes after the provider (type `BRIDGE::FC::Trigger`, which the provider passes over), so
   * that the packaged template says when each function runs.
   */
  private completeTemplate(): void {
    const provider = this.serverless.getProvider('aliyun');
    const { Resources } = this.serverless.service.provider.compiledConfigurationTemplate;
    const functions = this.environments();
    for (const { name, env } of functions) {
      const resource = Resources[provider.getFunctionLogicalId(name)];
      if (resource) resource.Properties.environmentVariables = env;
    }
    for (const { functionName, spec } of this.triggers(functions)) {
      const { role: _role, table: _table, ...trigger } = spec;
      Resources[`${provider.getFunctionLogicalId(functionName)}${spec.triggerName.replace(/(^|-)(\w)/g, (_match: string, _dash: string, letter: string) => letter.toUpperCase())}Trigger`] = { Type: 'BRIDGE::FC::Trigger', Properties: { serviceName: provider.getServiceName(), functionName, ...trigger } };
    }
    const invokeRole = Resources[provider.getInvokeRoleLogicalId()]?.Properties as RoleSpec | undefined;
    if (invokeRole) {
      const service = provider.getServiceName();
      const region = this.region;
      const resources = this.environments().flatMap(({ name }) => functionArns(region, '*', service, name));
      invokeRole.Policies = [
        {
          PolicyName: invokePolicyName(service, region),
          PolicyType: 'Custom',
          Description: `Lets API Gateway invoke the functions of ${service}, and no other`,
          PolicyDocument: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['fc:InvokeFunction'], Resource: resources }] },
        },
      ];
    }
  }

  /** The deploy's compiled template, as `sls package` wrote it. */
  private template(): Template {
    return JSON.parse(readFileSync(join(this.serverless.config.servicePath, '.serverless', 'configuration-template-update.json'), 'utf8')) as Template;
  }

  /** Each function of the template with its environment, checked as at packaging. */
  private deployedFunctions(template: Template): Array<{ name: string; env: Record<string, string> }> {
    const functions = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'ALIYUN::FC::Function')
      .map((resource) => ({ name: String(resource.Properties.name), env: (resource.Properties.environmentVariables ?? {}) as Record<string, string> }));
    this.check(functions);
    return functions;
  }

  /**
   * Before the provider deploys: first the RAM roles and policies (the provider's, with the exec
   * role's policy brought up to date, and the Tablestore triggers' invocation roles), so a user
   * without the RAM permissions is stopped before anything else changes; then the tables and indexes,
   * and the Streams that Tablestore triggers read.
   */
  private async provision(): Promise<void> {
    const template = this.template();
    const provider = this.serverless.getProvider('aliyun');
    const log = (message: string) => this.log(message);
    for (const id of [provider.getExecRoleLogicalId(), provider.getInvokeRoleLogicalId()]) {
      const role = template.Resources[id]?.Properties as RoleSpec | undefined;
      if (role) await ensureRole(provider.ramClient, role, log, [BROAD_INVOKE_POLICY]);
    }
    const functions = this.deployedFunctions(template);
    const triggers = this.triggers(functions);
    for (const { spec } of triggers) {
      if (spec.role) this.roleArns.set(spec.role.RoleName, (await ensureRole(provider.ramClient, spec.role, log)).Arn);
    }
    const { aliyun_access_key_id: accessKeyId, aliyun_access_key_secret: secretAccessKey } = provider.key;
    const { createTablestoreClient, ensureDeadLetterTable, ensureEventStream, ensureEventTable, ensureInboxTable } = tablestoreProvisioning();
    const tables = new Map<string, { env: Record<string, string>; stream: boolean }>();
    for (const { env } of functions) {
      // The functions of one table: the recover function's environment adds its inbox table.
      const key = `${env.TABLESTORE_ENDPOINT} ${env.EVENTS_TABLE}`;
      tables.set(key, { env: { ...tables.get(key)?.env, ...env }, stream: false });
    }
    for (const { env, spec } of triggers) if (spec.table) tables.get(`${env.TABLESTORE_ENDPOINT} ${env.EVENTS_TABLE}`)!.stream = true;
    for (const { env, stream } of tables.values()) {
      const client = createTablestoreClient({ endpoint: env.TABLESTORE_ENDPOINT!, instance: env.TABLESTORE_INSTANCE!, accessKeyId, secretAccessKey });
      this.log(`Tablestore table ${env.TABLESTORE_INSTANCE}/${env.EVENTS_TABLE}: ${await ensureEventTable(client, env.EVENTS_TABLE!)}`);
      if (stream) this.log(`Tablestore table ${env.TABLESTORE_INSTANCE}/${env.EVENTS_TABLE} Stream: ${await ensureEventStream(client, env.EVENTS_TABLE!)}`);
      if (env.RECOVER_INBOX_TABLE) this.log(`Tablestore table ${env.TABLESTORE_INSTANCE}/${env.RECOVER_INBOX_TABLE}: ${await ensureInboxTable(client, env.RECOVER_INBOX_TABLE)}`);
    }
    const deadLetterTables = new Map<string, Record<string, string>>();
    for (const { env } of functions) {
      if (env.DINGTALK_DEAD_LETTER_TABLE) deadLetterTables.set(`${env.TABLESTORE_ENDPOINT} ${env.DINGTALK_DEAD_LETTER_TABLE}`, env);
    }
    for (const env of deadLetterTables.values()) {
      const client = createTablestoreClient({ endpoint: env.TABLESTORE_ENDPOINT!, instance: env.TABLESTORE_INSTANCE!, accessKeyId, secretAccessKey });
      this.log(`Tablestore table ${env.TABLESTORE_INSTANCE}/${env.DINGTALK_DEAD_LETTER_TABLE}: ${await ensureDeadLetterTable(client, env.DINGTALK_DEAD_LETTER_TABLE!)}`);
    }
  }

  /**
   * The `timer` and `tablestore` triggers of every function, with the function's name and environment
   * (as deployed, from the template; at remove, from the configuration, where only names matter).
   */
  private triggers(functions: Array<{ name: string; env: Record<string, string> }>) {
    const provider = this.serverless.getProvider('aliyun');
    const { service } = this.serverless;
    const deployed = new Map(functions.map((fn) => [fn.name, fn.env]));
    return service.getAllFunctions().flatMap((key) => {
      const fn = service.getFunction(key);
      const env = deployed.get(fn.name) ?? {};
      const context = { accountId: provider.key.aliyun_account_id, region: this.region, serviceName: provider.getServiceName(), functionName: fn.name, functionKey: key, env };
      return triggerSpecs(fn.events ?? [], context).map((spec) => ({ functionName: fn.name, env, spec }));
    });
  }

  /** After the provider deployed the functions: the log index brought up to date, then the triggers. */
  private async finish(): Promise<void> {
    const template = this.template();
    const provider = this.serverless.getProvider('aliyun');
    const outcome = await ensureLogIndex(provider.slsClient, provider.getLogProjectName(), provider.getLogStoreName());
    this.log(`Log index of ${provider.getLogProjectName()}/${provider.getLogStoreName()}: ${outcome}`);
    for (const { functionName, spec } of this.triggers(this.deployedFunctions(template))) {
      const invocationRole = spec.role && this.roleArns.get(spec.role.RoleName);
      const outcome = await ensureTrigger(provider.fcClient, provider.getServiceName(), functionName, { ...spec, invocationRole });
      this.log(`FC trigger ${functionName}/${spec.triggerName} (${spec.triggerType}): ${outcome}`);
    }
  }

  /** On remove, before the provider deletes the functions: the `timer` and `tablestore` triggers the bridge made. */
  private async removeTriggers(): Promise<void> {
    const provider = this.serverless.getProvider('aliyun');
    for (const { functionName, spec } of this.triggers(this.environments())) {
      const outcome = await deleteTrigger(provider.fcClient, provider.getServiceName(), functionName, spec.triggerName);
      this.log(`FC trigger ${functionName}/${spec.triggerName} (${spec.triggerType}): ${outcome}`);
    }
  }

  /**
   * After the provider removed the API, the functions and the service: every role the deploy made,
   * now unused, with its custom policies (the provider plugin would delete only the exec and invoke
   * roles, keeping their policies, and only with an option Serverless v3 rejects). The Tablestore
   * tables and the logstore stay, and the output says so.
   */
  private async removeRoles(): Promise<void> {
    const provider = this.serverless.getProvider('aliyun');
    const roles: RoleRemoval[] = [
      { RoleName: provider.getExecRoleName(), Policies: [provider.getExecRolePolicyName()] },
      { RoleName: provider.getInvokeRoleName(), Policies: [invokePolicyName(provider.getServiceName(), this.region)] },
    ];
    const functions = this.environments();
    for (const { spec } of this.triggers(functions)) {
      if (spec.role) roles.push({ RoleName: spec.role.RoleName, Policies: spec.role.Policies.map((policy) => policy.PolicyName) });
    }
    for (const role of roles) await removeRole(provider.ramClient, role, (message) => this.log(message));
    const tables = new Set<string>();
    for (const { env } of functions) {
      for (const name of [env.EVENTS_TABLE, env.RECOVER_INBOX_TABLE, env.DINGTALK_DEAD_LETTER_TABLE]) {
        if (name) tables.add(env.TABLESTORE_INSTANCE ? `${env.TABLESTORE_INSTANCE}/${name}` : name);
      }
    }
    this.log(`Kept the Tablestore tables ${[...tables].join(', ')}: a remove never deletes events (docs/deploy-aliyun.md, "Removing a stack")`);
    this.log(`Kept the functions' logs in the Log Service logstore ${provider.getLogProjectName()}/${provider.getLogStoreName()}`);
  }
}

/** The custom policy of API Gateway's invoke role, which the bridge gives it instead of the provider's system one. */
function invokePolicyName(service: string, region: string): string {
  return `fc-${service}-${region}-invoke`;
}
