import AdmZip from 'adm-zip';
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../../core/errors';
import { loadSettings, type Environment } from '../../core/settings';
import { lazyTablestoreProtobuf } from './lazy-protobuf';
import { createTablestoreClient, tablestoreLocation } from './tablestore-client';
import { ensureEventTable } from './tablestore-table';

/** The parts of Serverless v3 and of serverless-aliyun-function-compute's provider that the bridge uses. */
interface Serverless {
  service: {
    service: string;
    provider: { runtime?: string; environment?: Record<string, unknown>; ramRoleStatements?: object[]; compiledConfigurationTemplate: Template };
    package?: { artifact?: string };
    getAllFunctions(): string[];
    getFunction(name: string): { name: string; handler: string; environment?: Record<string, unknown> };
  };
  config: { servicePath: string };
  cli: { log(message: string): void };
  classes: { Error: new (message: string) => Error };
  configSchemaHandler: { defineProvider(name: string, schema: object): void };
  getProvider(name: 'aliyun'): AliyunProvider;
}
interface AliyunProvider {
  key: { aliyun_access_key_id: string; aliyun_access_key_secret: string };
  ramClient: RamClient;
  getFunctionLogicalId(name: string): string;
  getExecRoleLogicalId(): string;
  getExecRolePolicyName(): string;
}
/** The two RAM calls of `@alicloud/ram` the bridge makes. */
export interface RamClient {
  getPolicy(params: { PolicyName: string; PolicyType: 'Custom' }): Promise<{ DefaultPolicyVersion: { PolicyDocument: string } }>;
  createPolicyVersion(params: { PolicyName: string; PolicyDocument: string; SetAsDefault: boolean; RotateStrategy: string }): Promise<unknown>;
}
interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}
interface RoleProperties {
  Policies: Array<{ PolicyName: string; PolicyDocument: object }>;
}

/** The function's only Tablestore call: the conditional insert of core's pipeline. */
const TABLESTORE_ACTIONS = ['ots:PutRow'];

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
  functionEvents: { http: HTTP_EVENT, https: HTTP_EVENT, oss: { type: 'object' } },
};

/**
 * A local Serverless plugin that fills the gaps of serverless-aliyun-function-compute 1.2.6 for this
 * service: it bundles each handler with esbuild into a zip holding nothing else, gives the functions
 * their environment variables, grants their RAM role `ots:PutRow` on the events table and nothing
 * more, and on deploy creates the Tablestore table and indexes when missing. It also declares the
 * provider's configuration schema, which the provider plugin lacks.
 */
export class AliyunBridge {
  readonly hooks: Record<string, () => Promise<void>>;

  constructor(
    private readonly serverless: Serverless,
    private readonly options: { region?: string },
  ) {
    serverless.configSchemaHandler.defineProvider('aliyun', PROVIDER_SCHEMA);
    this.hooks = {
      'before:package:initialize': async () => this.grantTablestore(),
      'before:package:createDeploymentArtifacts': () => this.bundle(),
      'after:package:compileFunctions': async () => this.addEnvironment(),
      'before:deploy:deploy': () => this.provision(),
    };
  }

  /** Each function's environment: the service's, then its own; values as strings. */
  private environments(): Array<{ name: string; env: Record<string, string> }> {
    const { service } = this.serverless;
    return service.getAllFunctions().map((key) => {
      const fn = service.getFunction(key);
      const env = Object.entries({ ...service.provider.environment, ...fn.environment })
        .filter(([, value]) => value !== undefined && value !== null)
        .map(([name, value]) => [name, String(value)]);
      return { name: fn.name, env: Object.fromEntries(env) };
    });
  }

  /** Checks the settings as the function will at cold start, so a bad one fails the package, not the first push. */
  private check(env: Environment): void {
    try {
      loadSettings(env);
      tablestoreLocation(env);
    } catch (error) {
      if (error instanceof ConfigError) throw new this.serverless.classes.Error(`${error.message} (set it in the environment of \`sls package\` / \`sls deploy\`)`);
      throw error;
    }
  }

  /** Adds the PutRow grant to the exec role, through the provider's own `ramRoleStatements`. */
  private grantTablestore(): void {
    const region = this.options.region;
    const resources = new Set<string>();
    for (const { env } of this.environments()) {
      this.check(env);
      // RAM matches Tablestore instance names in lower case.
      resources.add(`acs:ots:${region}:*:instance/${env.TABLESTORE_INSTANCE!.toLowerCase()}/table/${env.EVENTS_TABLE}`);
    }
    const { provider } = this.serverless.service;
    provider.ramRoleStatements = [...(provider.ramRoleStatements ?? []), { Effect: 'Allow', Action: TABLESTORE_ACTIONS, Resource: [...resources] }];
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
      const { outputFiles } = await build({
        entryPoints: [entry],
        outfile: join(config.servicePath, `${file}.js`),
        bundle: true,
        platform: 'node',
        target: `node${version}`,
        format: 'cjs',
        minify: true,
        legalComments: 'none',
        // Not strict: the tablestore SDK assigns undeclared variables, which throws in strict code,
        // and a bundle starting with "use strict" (tsconfig's strict implies it) makes all of it strict.
        tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
        plugins: [lazyTablestoreProtobuf],
        write: false,
        logLevel: 'warning',
      });
      zip.addFile(`${file}.js`, Buffer.from(outputFiles[0]!.contents));
    }
    const artifact = join(config.servicePath, '.serverless', `${service.service}.zip`);
    mkdirSync(dirname(artifact), { recursive: true });
    zip.writeZip(artifact);
    (service.package ??= {}).artifact = artifact;
    this.serverless.cli.log(`Bundled ${[...files].join(', ')} into ${relative(config.servicePath, artifact)}`);
  }

  /** Function Compute's createFunction takes `environmentVariables`; the provider never sets them. */
  private addEnvironment(): void {
    const provider = this.serverless.getProvider('aliyun');
    const { Resources } = this.serverless.service.provider.compiledConfigurationTemplate;
    for (const { name, env } of this.environments()) {
      const resource = Resources[provider.getFunctionLogicalId(name)];
      if (resource) resource.Properties.environmentVariables = env;
    }
  }

  /** Before the provider deploys: the table and indexes, and the exec role's policy brought up to date. */
  private async provision(): Promise<void> {
    const template = JSON.parse(readFileSync(join(this.serverless.config.servicePath, '.serverless', 'configuration-template-update.json'), 'utf8')) as Template;
    const provider = this.serverless.getProvider('aliyun');
    const { aliyun_access_key_id: accessKeyId, aliyun_access_key_secret: secretAccessKey } = provider.key;
    const tables = new Map<string, Record<string, string>>();
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'ALIYUN::FC::Function') continue;
      const env = (resource.Properties.environmentVariables ?? {}) as Record<string, string>;
      this.check(env);
      tables.set(`${env.TABLESTORE_ENDPOINT} ${env.EVENTS_TABLE}`, env);
    }
    for (const env of tables.values()) {
      const client = createTablestoreClient({ endpoint: env.TABLESTORE_ENDPOINT!, instance: env.TABLESTORE_INSTANCE!, accessKeyId, secretAccessKey });
      const outcome = await ensureEventTable(client, env.EVENTS_TABLE!);
      this.serverless.cli.log(`Tablestore table ${env.TABLESTORE_INSTANCE}/${env.EVENTS_TABLE}: ${outcome}`);
    }
    const role = template.Resources[provider.getExecRoleLogicalId()]?.Properties as RoleProperties | undefined;
    const policy = role?.Policies.find((candidate) => candidate.PolicyName === provider.getExecRolePolicyName());
    if (policy) await updatePolicy(provider.ramClient, policy.PolicyName, policy.PolicyDocument, (message) => this.serverless.cli.log(message));
  }
}

/**
 * The provider creates the exec role's policy once and never updates it, so a policy from an older
 * deploy would lack the Tablestore grant: publish the template's document as a new default version
 * when it differs (RAM keeps five versions; the oldest non-default one goes).
 */
export async function updatePolicy(ram: RamClient, name: string, document: object, log: (message: string) => void): Promise<void> {
  let deployed: object;
  try {
    deployed = JSON.parse((await ram.getPolicy({ PolicyName: name, PolicyType: 'Custom' })).DefaultPolicyVersion.PolicyDocument) as object;
  } catch (error) {
    if ((error as { name?: string }).name === 'EntityNotExist.PolicyError') return; // the provider creates it from the template
    throw error;
  }
  if (isDeepStrictEqual(deployed, document)) return;
  await ram.createPolicyVersion({ PolicyName: name, PolicyDocument: JSON.stringify(document), SetAsDefault: true, RotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded' });
  log(`RAM policy ${name} updated`);
}
