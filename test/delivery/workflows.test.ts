import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciRunCommands, deliveryDocs, expectResolvable, loadRepoYaml, readRepoFile, ROOT } from './repo';

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; id?: string; if?: string }
interface Job {
  'runs-on'?: string; uses?: string; needs?: string[]; if?: string; environment?: string;
  permissions?: Record<string, string>; env?: Record<string, string>; steps?: Step[];
  strategy?: { matrix: Record<string, string[]> };
}
interface Workflow { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, Job> }

const WORKFLOWS = readdirSync(join(ROOT, '.github/workflows')).filter((name) => /\.ya?ml$/.test(name));
const workflow = (name: string) => loadRepoYaml(`.github/workflows/${name}`) as unknown as Workflow;
const stepsOf = (job: Job | undefined) => job?.steps ?? [];
const runOf = (job: Job | undefined) => stepsOf(job).map((step) => step.run ?? '').join('\n');
const stepUsing = (job: Job | undefined, action: string) => stepsOf(job).find((step) => step.uses?.startsWith(`${action}@`));
const stepRunning = (job: Job | undefined, text: string) => {
  const step = stepsOf(job).find((candidate) => candidate.run?.includes(text));
  expect(step, `a step runs ${text}`).to.not.equal(undefined);
  return step!;
};

/** Runs a step's script as GitHub's runner does (`bash --noprofile --norc -eo pipefail`), with its files in a scratch dir. */
function runStep(step: Step, env: Record<string, string>, dir: string) {
  const githubFiles = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_ENV: join(dir, 'env'), RUNNER_TEMP: dir };
  for (const file of [githubFiles.GITHUB_OUTPUT, githubFiles.GITHUB_ENV]) writeFileSync(file, '');
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {
    cwd: ROOT, encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir, ...githubFiles, ...env },
  });
  expect(result.status, result.stderr).to.equal(0);
  const keyValues = (file: string) => Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2)));
  return { stdout: result.stdout, outputs: keyValues(githubFiles.GITHUB_OUTPUT), env: keyValues(githubFiles.GITHUB_ENV) };
}

/** An `npx` that records its arguments and the DingTalk/Tablestore environment instead of reaching a cloud. */
function fakeNpx(dir: string) {
  writeFileSync(join(dir, 'npx'), `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "${dir}/npx-args"\nenv > "${dir}/npx-env"\n`);
  chmodSync(join(dir, 'npx'), 0o755);
  return () => ({
    args: readFileSync(join(dir, 'npx-args'), 'utf8').trim().split('\n'),
    env: Object.fromEntries(readFileSync(join(dir, 'npx-env'), 'utf8').split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2))),
  });
}

describe('GitHub Actions workflows', function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'workflow-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('are ci.yml and deploy.yml, each parsing to triggers and jobs with read-only default permissions', function () {
    expect(WORKFLOWS).to.have.members(['ci.yml', 'deploy.yml']);
    for (const name of WORKFLOWS) {
      const { on, jobs, permissions } = workflow(name);
      expect(on, name).to.be.an('object');
      expect(permissions, name).to.deep.equal({ contents: 'read' });
      for (const [id, job] of Object.entries(jobs)) {
        expect(job['runs-on'] ?? job.uses, `${name} ${id} says where it runs`).to.be.a('string');
        for (const need of job.needs ?? []) expect(jobs, `${name} ${id} needs ${need}`).to.have.property(need);
      }
    }
  });

  it('pin every action to a full commit, commented with its release, the same commit everywhere', function () {
    const pins = new Map<string, string>();
    for (const name of WORKFLOWS) {
      for (const line of readRepoFile(`.github/workflows/${name}`).split('\n')) {
        const uses = /^\s*(?:- )?uses: (\S+)(.*)$/.exec(line);
        if (!uses || uses[1]!.startsWith('./')) continue;
        const [, action, rest] = uses;
        expect(action, `${name}: ${line.trim()}`).to.match(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
        expect(rest, `${name}: ${line.trim()} names its release`).to.match(/^ # v\d+\.\d+\.\d+$/);
        const [repo, sha] = action!.split('@');
        expect(pins.get(repo!) ?? sha, `${repo} is pinned to one commit`).to.equal(sha);
        pins.set(repo!, sha!);
      }
    }
    expect([...pins.keys()]).to.include.members(['actions/checkout', 'actions/setup-node', 'aws-actions/configure-aws-credentials']);
  });

  it('never expand an expression inside a script (values reach scripts through env, safe from injection)', function () {
    for (const name of WORKFLOWS) {
      for (const [id, job] of Object.entries(workflow(name).jobs)) {
        for (const step of stepsOf(job)) expect(step.run ?? '', `${name} ${id}`).to.not.include('${{');
      }
    }
  });

  it('reference only scripts, npm scripts, binaries and serverless configs that exist', function () {
    for (const name of WORKFLOWS) {
      for (const [id, job] of Object.entries(workflow(name).jobs)) {
        for (const line of runOf(job).split('\n')) expectResolvable(line, `${name} ${id}`);
        if (job.uses?.startsWith('./')) expect(workflow(job.uses.split('/').pop()!).on, `${name} ${id} calls a reusable workflow`).to.have.property('workflow_call');
      }
    }
  });

  it('set the Serverless telemetry and notification switches wherever sls runs', function () {
    for (const name of WORKFLOWS) {
      for (const [id, job] of Object.entries(workflow(name).jobs)) {
        if (!runOf(job).includes('sls ')) continue;
        expect(job.env, `${name} ${id}`).to.include({ SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' });
      }
    }
  });

  it('document every secret and variable they read in docs/continuous-delivery.md', function () {
    const docs = deliveryDocs();
    const names = new Set(WORKFLOWS.flatMap((name) => [...readRepoFile(`.github/workflows/${name}`).matchAll(/\b(?:secrets|vars)\.(\w+)/g)].map((match) => match[1]!)));
    expect(names.size).to.be.greaterThan(5);
    for (const name of names) expect(docs, `docs/continuous-delivery.md documents ${name}`).to.include(`\`${name}\``);
  });

  describe('ci.yml', function () {
    const ci = workflow('ci.yml');
    const test = ci.jobs.test;

    it('runs on every push and pull request, and can be called by deploy.yml', function () {
      expect(ci.on).to.have.all.keys('push', 'pull_request', 'workflow_call');
      expect(ci.on.push).to.deep.equal({ branches: ['**'] });
    });

    it('runs .ci/run, which is `npm ci` then the README test command', function () {
      expect(stepsOf(test).map((step) => step.run).filter(Boolean)).to.deep.equal(['.ci/run']);
      expect(ciRunCommands().map((command) => command.split(' ').slice(0, 2).join(' '))).to.deep.equal(['npm ci', 'npm test']);
      expect(readRepoFile('README.md')).to.include('npm test ');
    });

    it('tests on both runtimes the functions run on, with the npm cache', function () {
      expect(test?.strategy?.matrix.node).to.have.members(['20', '22']);
      expect(stepUsing(test, 'actions/setup-node')?.with).to.deep.equal({ 'node-version': '${{ matrix.node }}', cache: 'npm' });
    });
  });

  describe('deploy.yml', function () {
    const deploy = workflow('deploy.yml');
    const { test, plan, aws, aliyun } = deploy.jobs;
    const planStep = () => stepsOf(plan).find((step) => step.id === 'plan')!;

    it('runs on a release tag, or by hand naming the stage and the cloud', function () {
      expect(deploy.on.push).to.deep.equal({ tags: ['v*'] });
      const inputs = (deploy.on.workflow_dispatch as { inputs: Record<string, { options: string[] }> }).inputs;
      expect(inputs.stage?.options).to.deep.equal(['dev', 'prod']);
      expect(inputs.cloud?.options).to.have.members(['both', 'aws', 'aliyun']);
    });

    it('tests with the CI workflow before either cloud deploys', function () {
      expect(test?.uses).to.equal('./.github/workflows/ci.yml');
      for (const job of [aws, aliyun]) expect(job?.needs).to.include.members(['test', 'plan']);
    });

    it('deploys each cloud only when the plan found its credentials, into the environment named after the stage', function () {
      expect(aws?.if).to.equal("needs.plan.outputs.aws == 'true'");
      expect(aliyun?.if).to.equal("needs.plan.outputs.aliyun == 'true'");
      for (const job of [aws, aliyun]) expect(job?.environment).to.equal('${{ needs.plan.outputs.stage }}');
      expect(planStep().env?.AWS_CONFIGURED).to.equal("${{ vars.AWS_ROLE_ARN != '' }}");
      for (const secret of ['ALIYUN_ACCOUNT_ID', 'ALIYUN_ACCESS_KEY_ID', 'ALIYUN_ACCESS_KEY_SECRET']) {
        expect(planStep().env?.ALIYUN_CONFIGURED).to.include(`secrets.${secret} != ''`);
      }
    });

    const plans: Array<[string, Record<string, string>, Record<string, string>]> = [
      ['a release tag with both clouds configured', { STAGE: 'prod', CLOUD: 'both', AWS_CONFIGURED: 'true', ALIYUN_CONFIGURED: 'true' }, { stage: 'prod', aws: 'true', aliyun: 'true' }],
      ['AWS only configured', { STAGE: 'prod', CLOUD: 'both', AWS_CONFIGURED: 'true', ALIYUN_CONFIGURED: 'false' }, { stage: 'prod', aws: 'true', aliyun: 'false' }],
      ['nothing configured', { STAGE: 'dev', CLOUD: 'both', AWS_CONFIGURED: 'false', ALIYUN_CONFIGURED: 'false' }, { stage: 'dev', aws: 'false', aliyun: 'false' }],
      ['a dispatch to aliyun only', { STAGE: 'dev', CLOUD: 'aliyun', AWS_CONFIGURED: 'true', ALIYUN_CONFIGURED: 'true' }, { stage: 'dev', aws: 'false', aliyun: 'true' }],
      ['a dispatch to aws only', { STAGE: 'dev', CLOUD: 'aws', AWS_CONFIGURED: 'true', ALIYUN_CONFIGURED: 'true' }, { stage: 'dev', aws: 'true', aliyun: 'false' }],
    ];
    for (const [when, env, expected] of plans) {
      it(`plans ${JSON.stringify(expected)} for ${when}`, function () {
        expect(runStep(planStep(), env, dir).outputs).to.deep.equal(expected);
      });
    }

    it('signs in to AWS with the OIDC role only, no stored keys', function () {
      expect(aws?.permissions).to.deep.equal({ contents: 'read', 'id-token': 'write' });
      expect(stepUsing(aws, 'aws-actions/configure-aws-credentials')?.with).to.deep.equal({
        'role-to-assume': '${{ vars.AWS_ROLE_ARN }}',
        'role-session-name': 'dingtalk-callback-${{ github.run_id }}',
        'aws-region': '${{ env.AWS_REGION }}',
      });
      expect(readRepoFile('.github/workflows/deploy.yml')).to.not.match(/aws-(access-key-id|secret-access-key)/);
    });

    it('runs `sls deploy --config serverless.aws.yml` for the stage and region, with the SSM prefix and each schedule setting only when it is set', function () {
      const deployStep = stepRunning(aws, 'sls deploy');
      expect(Object.keys(deployStep.env!)).to.deep.equal(['DINGTALK_SSM_PREFIX', 'DINGTALK_RECOVER_ENABLED', 'AWS_RECOVER_SCHEDULE', 'DINGTALK_STREAM_ENABLED']);
      const recorded = fakeNpx(dir);
      const command = ['sls', 'deploy', '--config', 'serverless.aws.yml', '--stage', 'dev', '--region', 'ap-northeast-1'];
      const unset = { DINGTALK_RECOVER_ENABLED: '', AWS_RECOVER_SCHEDULE: '', DINGTALK_STREAM_ENABLED: '' };
      // None set: no --param, so serverless.aws.yml's defaults apply (recover hourly, Stream off).
      runStep(deployStep, { STAGE: 'dev', AWS_REGION: 'ap-northeast-1', DINGTALK_SSM_PREFIX: '/dingtalk-callback/dev', ...unset }, dir);
      expect(recorded().args).to.deep.equal(command);
      expect(recorded().env).to.include({ DINGTALK_SSM_PREFIX: '/dingtalk-callback/dev' });
      // An app in Stream mode: Stream on, recover off.
      runStep(deployStep, { STAGE: 'dev', AWS_REGION: 'ap-northeast-1', DINGTALK_SSM_PREFIX: '', ...unset, DINGTALK_RECOVER_ENABLED: 'false', DINGTALK_STREAM_ENABLED: 'true' }, dir);
      expect(recorded().env).to.not.have.any.keys('DINGTALK_SSM_PREFIX');
      expect(recorded().args).to.deep.equal([...command, '--param=recoverEnabled=false', '--param=streamEnabled=true']);
      runStep(deployStep, { STAGE: 'dev', AWS_REGION: 'ap-northeast-1', DINGTALK_SSM_PREFIX: '', ...unset, AWS_RECOVER_SCHEDULE: 'rate(30 minutes)' }, dir);
      expect(recorded().args).to.deep.equal([...command, '--param=recoverSchedule=rate(30 minutes)']);
    });

    it('writes the Alibaba secrets to a private credentials file that the provider plugin itself accepts', function () {
      const secrets = { ALIYUN_ACCOUNT_ID: '1234567890123456', ALIYUN_ACCESS_KEY_ID: 'LTAI-test-id', ALIYUN_ACCESS_KEY_SECRET: 'test-secret' };
      const { env } = runStep(stepRunning(aliyun, 'aliyun_credentials'), secrets, dir);
      expect(env.ALIYUN_CREDENTIALS_FILE).to.equal(join(dir, 'aliyun_credentials'));
      expect(statSync(env.ALIYUN_CREDENTIALS_FILE!).mode & 0o077, 'readable by its owner only').to.equal(0);
      const AliyunProvider = createRequire(__filename)('serverless-aliyun-function-compute/provider/aliyunProvider.js') as new (
        serverless: unknown, options: object) => { key: Record<string, string> };
      const provider = new AliyunProvider({ setProvider() {}, service: { provider: { credentials: env.ALIYUN_CREDENTIALS_FILE } } }, {});
      expect(provider.key).to.deep.equal({ aliyun_account_id: secrets.ALIYUN_ACCOUNT_ID, aliyun_access_key_id: secrets.ALIYUN_ACCESS_KEY_ID, aliyun_access_key_secret: secrets.ALIYUN_ACCESS_KEY_SECRET });
      expect(stepsOf(aliyun).at(-1)).to.deep.include({ if: 'always()', run: 'rm -f "$RUNNER_TEMP/aliyun_credentials"' });
    });

    it('runs `sls deploy --config serverless.aliyun.yml` for the stage with the function settings and ALIYUN_REGION from the deploying shell, never --region', function () {
      const deployStep = stepRunning(aliyun, 'sls deploy');
      const settings = { DINGTALK_TOKEN: 't', DINGTALK_AES_KEY: 'k'.repeat(43), DINGTALK_OWNER_KEY: 'ding123', EVENTS_TABLE: 'events', TABLESTORE_ENDPOINT: 'https://i.cn-hangzhou.ots.aliyuncs.com', TABLESTORE_INSTANCE: 'i' };
      expect(Object.keys(deployStep.env!)).to.include.members(Object.keys(settings));
      const recorded = fakeNpx(dir);
      const schedules = { DINGTALK_RECOVER_ENABLED: 'false', DINGTALK_RECOVER_SCHEDULE: '@every 30m', DINGTALK_STREAM_ENABLED: 'true' };
      expect(Object.keys(deployStep.env!)).to.include.members(Object.keys(schedules));
      // Not configured: absent, so that serverless.aliyun.yml's defaults apply (recover and Stream hourly).
      runStep(deployStep, { STAGE: 'prod', ALIYUN_REGION: '', DINGTALK_RECOVER_ENABLED: '', DINGTALK_RECOVER_SCHEDULE: '', DINGTALK_STREAM_ENABLED: '', ...settings }, dir);
      expect(recorded().args).to.deep.equal(['sls', 'deploy', '--config', 'serverless.aliyun.yml', '--stage', 'prod']);
      expect(recorded().env).to.include(settings);
      expect(recorded().env).not.to.have.any.keys('ALIYUN_REGION', ...Object.keys(schedules));
      // Serverless v3 refuses --region for the aliyun provider: the region travels in the environment.
      runStep(deployStep, { STAGE: 'prod', ALIYUN_REGION: 'cn-shanghai', ...schedules, ...settings }, dir);
      expect(recorded().args).to.deep.equal(['sls', 'deploy', '--config', 'serverless.aliyun.yml', '--stage', 'prod']);
      expect(recorded().env).to.include({ ALIYUN_REGION: 'cn-shanghai', ...schedules });
    });

    it('installs exactly what package-lock.json pins on the Node.js major each cloud runs', function () {
      for (const [job, node] of [[aws, '22'], [aliyun, '20']] as const) {
        expect(stepsOf(job).map((step) => step.run)).to.include(ciRunCommands()[0]);
        expect(stepUsing(job, 'actions/setup-node')?.with).to.deep.equal({ 'node-version': node, cache: 'npm' });
      }
    });
  });
});
