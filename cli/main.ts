import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, StoreError } from '../core/errors';
import { QueryError } from '../core/listing';
import { AwsError } from '../providers/aws/aws-json-client';
import { SANDBOX_VARIABLE, sandboxOn } from '../providers/local/dingtalk-sandbox';
import { localDynamoDbEndpoint } from '../providers/local/local-dynamodb';
import { callbackUrl } from './callback-url';
import { closest, parseCommandArgs, stringFlag, UsageError, type Command } from './command';
import { events } from './events';
import { forward } from './forward';
import { keygen } from './keygen';
import { listen } from './listen';
import { load } from './load';
import { recoverCommand } from './recover';
import { send } from './send';
import { suite } from './suite';
import { usage } from './usage';

const COMMANDS: Command[] = [keygen, send, events, suite, usage, listen, load, forward, recoverCommand, callbackUrl];

/** The commands `DINGTALK_SANDBOX=true` serves with no DingTalk app (Stream's `listen` has no sandbox). */
const SANDBOX_COMMANDS = new Set([recoverCommand.name, callbackUrl.name]);

const HELP = `Usage: dingtalk-callback <command> [options]

A DingTalk simulator, event browser and replay tool for the dingtalk-callback functions.

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(13)}${command.summary}`).join('\n')}

Options:
  -h, --help     show this help
  -V, --version  print the version

Run "dingtalk-callback <command> --help" for a command's options.`;

/** This package's version, as package.json gives it. */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs the CLI with `args` (without node and the script); resolves to the exit status. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`dingtalk-callback ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    const near = closest(name, COMMANDS.map((candidate) => candidate.name));
    const names = COMMANDS.map((candidate) => candidate.name).join(', ');
    process.stderr.write(`dingtalk-callback: unknown command "${name}"${near ? ` (did you mean "${near}"?)` : ''}; the commands are ${names}\nRun "dingtalk-callback --help" for what each does.\n`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined> = {};
  try {
    const parsed = parseCommandArgs(command, rest);
    values = parsed.values;
    const { positionals } = parsed;
    if (values.help) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    return await command.run(values, positionals);
  } catch (error) {
    if (error instanceof UsageError || error instanceof QueryError) {
      process.stderr.write(`dingtalk-callback ${command.name}: ${error.message}\nRun "dingtalk-callback ${command.name} --help" for usage.\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`dingtalk-callback ${command.name}: ${error.message}\n"dingtalk-callback ${command.name} --help" lists the settings it reads from the environment.\n`);
      if (SANDBOX_COMMANDS.has(command.name) && error.message.includes('DINGTALK_APP_KEY') && !sandboxOn(process.env)) {
        process.stderr.write(`To try it with no DingTalk app: ${SANDBOX_VARIABLE}=true, here and for npm start, uses npm start's local stand-in for DingTalk (docs/recover.md#trying-it-on-a-laptop).\n`);
      }
      return 2;
    }
    if (error instanceof StoreError) {
      // The AWS client's message names the call, the attempts and AWS's code already.
      const cause = error.cause instanceof AwsError ? error.cause.message : error.cause instanceof Error ? `${error.message}: ${error.cause.name} ${error.cause.message}` : error.message;
      process.stderr.write(`dingtalk-callback ${command.name}: cannot read the store (${cause})\n`);
      const endpoint = stringFlag(values.endpoint) ?? localDynamoDbEndpoint();
      if (!values.aws && !values.aliyun && refused(error.cause)) {
        process.stderr.write(`nothing answered at ${endpoint}: start the local stack (npm start), or point --endpoint at its store (npm start -- --dynamodbPort P serves http://localhost:P)\n`);
      }
      if (!values.aliyun && error.cause instanceof AwsError && error.cause.foreign) {
        process.stderr.write(`${endpoint} answered, but not as DynamoDB does: --endpoint is the store's address (npm start serves it at ${localDynamoDbEndpoint()}; npm start -- --dynamodbPort P at http://localhost:P), not the callback URL\n`);
      }
      if (error.cause instanceof AwsError && error.cause.code === 'CredentialsProviderError') {
        process.stderr.write('no AWS credentials were found: set AWS_PROFILE (a profile of aws configure or aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n');
      }
      return 1;
    }
    throw error;
  }
}

/** Whether `cause` is a connection that nothing accepted (no server on that port). */
function refused(cause: unknown): boolean {
  return (cause as { code?: unknown } | undefined)?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String((cause as Error | undefined)?.message));
}
