import { expect } from 'chai';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadYamlFile } from '../../testkit/cloudformation-yaml';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');

/** Reads a file of the repository as text. */
export const readRepoFile = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Parses a YAML file of the repository (CloudFormation short forms allowed). */
export const loadRepoYaml = (path: string) => loadYamlFile(join(ROOT, path)) as Record<string, unknown>;

/** The commands `.ci/run` runs, in order: what every pipeline must run to test exactly as CI does. */
export function ciRunCommands(): string[] {
  return readRepoFile('.ci/run')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(npm|npx|node) /.test(line));
}

/** `docs/continuous-delivery.md`, where every secret, variable and parameter must be documented. */
export function deliveryDocs(): string {
  const docs = readRepoFile('docs/continuous-delivery.md');
  expect(docs, 'docs/continuous-delivery.md starts with its title').to.match(/^# Continuous delivery\n/);
  return docs;
}

/** Which cloud each serverless config deploys to, checked against the config once it exists. */
const PROVIDER_OF_CONFIG: Record<string, string> = { 'serverless.aws.yml': 'aws', 'serverless.aliyun.yml': 'aliyun' };

/**
 * Asserts that a shell command refers only to things that exist here: `--config` files (and the cloud
 * they deploy to), npm scripts, binaries of installed packages, and repository scripts.
 */
export function expectResolvable(command: string, where: string): void {
  const scripts = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const [, config] of command.matchAll(/--config[= ]"?([^\s"]+)/g)) {
    expect(PROVIDER_OF_CONFIG, `${where}: --config ${config} is a known serverless config`).to.have.property(config!);
    expect(existsSync(join(ROOT, config!)), `${where}: ${config} exists in the repository`).to.equal(true);
    const provider = (loadRepoYaml(config!).provider as { name?: string } | undefined)?.name;
    expect(provider, `${where}: ${config} deploys to ${PROVIDER_OF_CONFIG[config!]}`).to.equal(PROVIDER_OF_CONFIG[config!]);
  }
  for (const [, script] of command.matchAll(/\bnpm (?:run(?:-script)? )?([\w:-]+)/g)) {
    if (script === 'ci' || script === 'install') continue;
    expect(scripts, `${where}: npm script "${script}" exists`).to.have.property(script!);
  }
  for (const [, bin] of command.matchAll(/\bnpx (?:--no-install )?([\w.-]+)/g)) {
    expect(existsSync(join(ROOT, 'node_modules', '.bin', bin!)), `${where}: npx ${bin} is a binary of a dependency`).to.equal(true);
  }
  for (const [, path] of command.matchAll(/(?:^|\s)(\.{0,2}\/?[\w.-]+\/[\w./-]+)(?=\s|$)/g)) {
    if (path!.startsWith('/') || path!.includes('$')) continue;
    expect(existsSync(join(ROOT, path!)), `${where}: ${path} exists`).to.equal(true);
    if (command.trim().startsWith(path!)) accessSync(join(ROOT, path!), constants.X_OK);
  }
}
