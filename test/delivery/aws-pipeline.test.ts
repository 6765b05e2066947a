import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ciRunCommands, deliveryDocs, expectResolvable, loadRepoYaml, ROOT } from './repo';

interface Resource { Type: string; Condition?: string; DependsOn?: string | string[]; Properties: Record<string, unknown> }
interface Template {
  AWSTemplateFormatVersion: string;
  Parameters: Record<string, { Type: string; Default?: string }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}
interface Statement { Sid?: string; Effect: string; Action: string | string[]; NotAction?: unknown; Resource: unknown; Principal?: unknown }

const TEMPLATES = ['deploy/aws/pipeline.yml', 'deploy/aws/github-oidc-role.yml'];
const template = (path: string) => loadRepoYaml(path) as unknown as Template;
const list = <T>(value: T | T[]) => (Array.isArray(value) ? value : [value]);
const PSEUDO_PARAMETERS = ['AWS::AccountId', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackName', 'AWS::URLSuffix'];

/** Every `{Key: value}` pair anywhere under a node, depth first. */
function* pairs(node: unknown): Generator<[string, unknown]> {
  if (Array.isArray(node)) for (const item of node) yield* pairs(item);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      yield [key, value];
      yield* pairs(value);
    }
  }
}

/** The IAM statements of every role and policy a template creates. */
function iamStatements(tpl: Template): Array<{ where: string; statement: Statement }> {
  const found: Array<{ where: string; statement: Statement }> = [];
  for (const [name, resource] of Object.entries(tpl.Resources)) {
    const documents = resource.Type === 'AWS::IAM::Role'
      ? ((resource.Properties.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []).map((policy) => policy.PolicyDocument)
      : resource.Type === 'AWS::IAM::ManagedPolicy' ? [resource.Properties.PolicyDocument] : [];
    for (const document of documents) {
      for (const statement of (document as { Statement: Statement[] }).Statement) found.push({ where: `${name} ${statement.Sid ?? ''}`, statement });
    }
  }
  return found;
}

describe('AWS CodePipeline and deploy roles (deploy/aws)', function () {
  for (const path of TEMPLATES) {
    describe(path, function () {
      const tpl = template(path);

      it('is a CloudFormation template whose every Ref, GetAtt, ${} and condition names something it declares', function () {
        expect(tpl.AWSTemplateFormatVersion).to.equal('2010-09-09');
        const known = new Set([...Object.keys(tpl.Parameters), ...Object.keys(tpl.Resources), ...PSEUDO_PARAMETERS]);
        const conditions = new Set(Object.keys(tpl.Conditions ?? {}));
        const subjects: string[] = [];
        for (const [key, value] of pairs(tpl)) {
          if (key === 'Ref') subjects.push(value as string);
          if (key === 'Fn::GetAtt') subjects.push((value as string[])[0]!);
          if (key === 'Fn::Sub') {
            const [text, locals] = Array.isArray(value) ? value as [string, object] : [value as string, {}];
            for (const [, name] of text.matchAll(/\$\{([^}!]+)\}/g)) if (!(name! in locals)) subjects.push(name!.split('.')[0]!);
          }
          if (key === 'Fn::If') expect(conditions, `${path}: condition ${(value as string[])[0]}`).to.include((value as string[])[0]);
          if (key === 'Condition' && typeof value === 'string') expect(conditions, `${path}: condition ${value}`).to.include(value);
        }
        expect(subjects.length).to.be.greaterThan(10);
        for (const subject of subjects) expect(known, `${path} declares ${subject}`).to.include(subject);
        for (const resource of Object.values(tpl.Resources)) {
          for (const dependency of list(resource.DependsOn ?? [])) expect(tpl.Resources).to.have.property(dependency);
        }
      });

      it('grants no wildcard action, and a "*" resource only to actions docs/continuous-delivery.md explains', function () {
        const statements = iamStatements(tpl);
        expect(statements.length).to.be.greaterThan(2);
        const docs = deliveryDocs();
        for (const { where, statement } of statements) {
          expect(statement.Effect, where).to.equal('Allow');
          expect(statement, where).to.not.have.property('NotAction');
          expect(statement, where).to.not.have.property('NotResource');
          for (const action of list(statement.Action)) {
            expect(action, where).to.match(/^[a-z0-9-]+:[A-Za-z]+$/);
            if (list(statement.Resource).includes('*')) expect(docs, `${where}: docs/continuous-delivery.md explains why ${action} needs "*"`).to.include(`\`${action}\``);
          }
        }
      });

      it('lets only its own account\'s services, or this repository\'s GitHub environment, assume its roles', function () {
        for (const [name, resource] of Object.entries(tpl.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
          const [trust, ...more] = (resource.Properties.AssumeRolePolicyDocument as { Statement: Array<Statement & { Condition: Record<string, Record<string, unknown>> }> }).Statement;
          expect(more, name).to.have.length(0);
          const principal = trust!.Principal as { Service?: string; Federated?: unknown };
          if (principal.Service) {
            expect(trust!.Action, name).to.equal('sts:AssumeRole');
            expect(trust!.Condition, name).to.deep.equal({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
          } else {
            expect(trust!.Action, name).to.equal('sts:AssumeRoleWithWebIdentity');
            expect(trust!.Condition, name).to.deep.equal({
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': { 'Fn::Sub': 'repo:${Repository}:environment:${Stage}' },
              },
            });
          }
        }
      });

      it('scopes the deploy policy to the stage\'s stack and resources in the deploy region', function () {
        const deployPolicy = iamStatements({ ...tpl, Resources: { DeployPolicy: tpl.Resources.DeployPolicy! } });
        for (const { where, statement } of deployPolicy) {
          for (const resource of list(statement.Resource)) {
            if (resource === '*') continue;
            const arn = (resource as { 'Fn::Sub': string })['Fn::Sub'];
            expect(arn, where).to.match(/^arn:\$\{AWS::Partition\}:[a-z0-9-]+:(\$\{DeployRegion\})?:(\$\{AWS::AccountId\})?:/);
            if (!/apigateway|log-group:\*$/.test(arn)) expect(arn, `${where} names ${'${ServiceName}-${Stage}'}`).to.include('${ServiceName}-${Stage}');
          }
        }
      });
    });
  }

  it('gives CodeBuild and GitHub Actions the very same deploy policy', function () {
    const [pipeline, github] = TEMPLATES.map((path) => template(path).Resources.DeployPolicy);
    expect(pipeline?.Type).to.equal('AWS::IAM::ManagedPolicy');
    expect(github).to.deep.equal(pipeline);
  });

  describe('pipeline.yml', function () {
    const tpl = template('deploy/aws/pipeline.yml');
    const { Pipeline, BuildProject, ArtifactBucket, BuildRole } = tpl.Resources;
    const stages = (Pipeline!.Properties.Stages as Array<unknown>);
    const stage = (name: string) => stages.find((s) => (s as { Name?: string }).Name === name) as { Actions: Array<Record<string, unknown>> };

    it('takes the repository, branch, stage and region as parameters', function () {
      expect(tpl.Parameters).to.include.all.keys('ConnectionArn', 'Repository', 'Branch', 'Stage', 'DeployRegion');
    });

    it('takes each commit of the branch from the CodeStar connection', function () {
      const [source] = stage('Source').Actions;
      expect(source?.ActionTypeId).to.deep.equal({ Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection', Version: '1' });
      expect(source?.Configuration).to.deep.include({
        ConnectionArn: { Ref: 'ConnectionArn' }, FullRepositoryId: { Ref: 'Repository' }, BranchName: { Ref: 'Branch' }, DetectChanges: true,
      });
    });

    it('then runs the CodeBuild project on that source, after an approval when asked for', function () {
      const [build] = stage('Deploy').Actions;
      expect(build?.ActionTypeId).to.deep.include({ Category: 'Build', Provider: 'CodeBuild' });
      expect(build?.Configuration).to.deep.equal({ ProjectName: { Ref: 'BuildProject' } });
      expect(build?.InputArtifacts).to.deep.equal(stage('Source').Actions[0]?.OutputArtifacts);
      expect(stages[1]).to.have.nested.property('Fn::If[0]', 'ApprovalRequired');
      expect(stages[1]).to.have.nested.property('Fn::If[1].Actions[0].ActionTypeId.Category', 'Approval');
    });

    it('keeps artifacts in its own encrypted, private bucket', function () {
      expect(Pipeline!.Properties.ArtifactStore).to.deep.equal({ Type: 'S3', Location: { Ref: 'ArtifactBucket' } });
      expect(ArtifactBucket!.Properties.BucketEncryption).to.have.nested.property('ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm');
      expect(Object.values(ArtifactBucket!.Properties.PublicAccessBlockConfiguration as object)).to.deep.equal([true, true, true, true]);
    });

    it('builds with a buildspec that exists, on a role holding the deploy policy', function () {
      const source = BuildProject!.Properties.Source as { Type: string; BuildSpec: string };
      expect(source.Type).to.equal('CODEPIPELINE');
      expect(existsSync(join(ROOT, source.BuildSpec)), source.BuildSpec).to.equal(true);
      expect(BuildProject!.Properties.ServiceRole).to.deep.equal({ 'Fn::GetAtt': ['BuildRole', 'Arn'] });
      expect(BuildRole!.Properties.ManagedPolicyArns).to.deep.equal([{ Ref: 'DeployPolicy' }]);
    });

    it('documents each parameter in docs/continuous-delivery.md', function () {
      const docs = deliveryDocs();
      for (const parameter of Object.keys(tpl.Parameters)) expect(docs, parameter).to.include(`\`${parameter}\``);
    });
  });

  describe('buildspec.yml', function () {
    const spec = loadRepoYaml('deploy/aws/buildspec.yml') as {
      version: number; env: { variables: Record<string, string> };
      phases: Record<string, { commands: string[]; 'runtime-versions'?: Record<string, number> }>;
    };
    const commands = ['install', 'pre_build', 'build'].flatMap((phase) => spec.phases[phase]?.commands ?? []);
    const projectVariables = (template('deploy/aws/pipeline.yml').Resources.BuildProject!.Properties.Environment as { EnvironmentVariables: Array<{ Name: string }> })
      .EnvironmentVariables.map((variable) => variable.Name);

    it('installs and tests exactly as .ci/run does, then deploys serverless.aws.yml to the project\'s stage and region', function () {
      expect(spec.version).to.equal(0.2);
      expect(commands).to.deep.equal([...ciRunCommands(), 'npx sls deploy --config serverless.aws.yml --stage "$STAGE" --region "$DEPLOY_REGION"']);
      expect(spec.phases.install?.commands).to.deep.equal([ciRunCommands()[0]]);
    });

    it('reads only variables the CodeBuild project or the buildspec set, and references only what exists', function () {
      for (const command of commands) {
        expectResolvable(command, 'buildspec.yml');
        for (const [, variable] of command.matchAll(/\$\{?(\w+)/g)) {
          expect([...projectVariables, ...Object.keys(spec.env.variables)], variable).to.include(variable);
        }
      }
      expect(spec.env.variables).to.deep.equal({ SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' });
    });

    it('builds on the Node.js major of the Lambda runtime', function () {
      expect(spec.phases.install?.['runtime-versions']).to.deep.equal({ nodejs: 22 });
      if (existsSync(join(ROOT, 'serverless.aws.yml'))) {
        expect((loadRepoYaml('serverless.aws.yml').provider as { runtime: string }).runtime).to.equal('nodejs22.x');
      }
    });
  });
});
