import { AccessToken, DingTalkApi, DingTalkApiError } from '../core/dingtalk-api';
import { ConfigError } from '../core/errors';
import { loadRecoverSettings } from '../core/recover';
import { readAll, required } from '../core/environment';
import { decodeAesKey } from '../core/settings';
import type { Environment } from '../core/environment';
import { sandboxEnv } from '../providers/local/dingtalk-sandbox';
import { stringFlag, UsageError, type Command } from './command';
import { terminalSafe } from './terminal';

/** What DingTalk's errors mean here, and what to do next. */
const HINTS: Record<number, string> = {
  71006: 'a callback URL is registered already: use "callback-url update", or "callback-url delete" first',
  71007: 'no callback URL is registered: use "callback-url register"',
  71009: 'DingTalk sent check_url to the URL and did not get an encrypted "success" back: is the function deployed there, with the same DINGTALK_TOKEN, DINGTALK_AES_KEY and the corpId in DINGTALK_OWNER_KEY?',
};

export const callbackUrl: Command = {
  name: 'callback-url',
  summary: 'get, register, update or delete the callback URL of a corp (the old call_back API)',
  help: `Usage: dingtalk-callback callback-url get
       dingtalk-callback callback-url register --url URL --tags TAG,TAG
       dingtalk-callback callback-url update [--url URL] [--tags TAG,TAG]
       dingtalk-callback callback-url delete

Registers this function's URL for a corp's business events through DingTalk's call_back API
(register_call_back, update_call_back, get_call_back, delete_call_back). DingTalk first sends
check_url to the URL, so deploy the function before registering it. Apps made in the new developer
console set the URL in the console instead (事件订阅 / Event Subscription).

The token and EncodingAESKey sent are DINGTALK_TOKEN and DINGTALK_AES_KEY, the function's own; the
access token comes from DINGTALK_APP_KEY and DINGTALK_APP_SECRET. None of them is ever printed.
DingTalk's errors are shown as it says them (71006: a URL is registered already; 71009: the URL did
not answer "success").

Options:
  --url URL          the callback URL (register; update keeps the registered one by default)
  --tags A,B         the event types to subscribe to (register; update keeps the registered ones)
  -h, --help         show this help

Settings: DINGTALK_APP_KEY, DINGTALK_APP_SECRET, DINGTALK_TOKEN, DINGTALK_AES_KEY,
DINGTALK_API_BASE (default https://oapi.dingtalk.com). DINGTALK_SANDBOX=true: the local stand-in
for DingTalk's server API that npm start runs with the same variable, with its development app
and npm start's development credentials, unless these say otherwise.

Examples:
  dingtalk-callback callback-url register --url https://abc.execute-api.cn-north-1.amazonaws.com.cn/dingtalk --tags bpms_instance_change,user_add_org
  DINGTALK_SANDBOX=true dingtalk-callback callback-url register --url http://localhost:3000/dingtalk --tags user_add_org`,
  options: { url: { type: 'string' }, tags: { type: 'string' } },
  async run(values, positionals) {
    const [action, ...extra] = positionals;
    if (!action || !['get', 'register', 'update', 'delete'].includes(action) || extra.length > 0) {
      throw new UsageError('say one of: get, register, update, delete');
    }
    // What the command line lacks first, then every setting that is missing, in one message.
    const url = stringFlag(values.url);
    const tags = stringFlag(values.tags)?.split(',').map((tag) => tag.trim()).filter(Boolean);
    if (action === 'register' && (!url || !tags?.length)) throw new UsageError('register needs --url and --tags');
    if (url !== undefined && !URL.canParse(url)) throw new UsageError(`--url is not a URL: ${url}`);
    const writes = action === 'register' || action === 'update';
    const env = sandboxEnv(process.env);
    const [settings, secrets] = readAll(
      () => loadRecoverSettings(env),
      () => (writes ? callbackSecrets(env) : undefined),
    );
    if (settings.mode.kind !== 'app') throw new ConfigError('DINGTALK_SUITE_KEY', 'the call_back API is a corp\'s: unset it and set DINGTALK_APP_KEY and DINGTALK_APP_SECRET');
    const api = new DingTalkApi({ base: settings.apiBase, timeoutMs: settings.timeoutMs });
    const token = new AccessToken(api, { kind: 'app', appKey: settings.mode.appKey, appSecret: settings.mode.appSecret });
    try {
      if (action === 'get') return await show(token, env);
      if (action === 'delete') {
        await token.call('call_back/delete_call_back');
        process.stdout.write('callback URL deleted\n');
        return 0;
      }
      return await write(action, token, secrets!, url, tags);
    } catch (error) {
      if (!(error instanceof DingTalkApiError)) throw error;
      process.stderr.write(`dingtalk-callback callback-url ${action}: ${terminalSafe(error.message)}\n`);
      const hint = error.errcode === undefined ? undefined : HINTS[error.errcode];
      if (hint) process.stderr.write(`${hint}\n`);
      return 1;
    }
  },
};

/** The token and AES key DingTalk is to sign and encrypt pushes with: the function's own. */
function callbackSecrets(env: Environment): { token: string; aes_key: string } {
  const [token, aesKey] = readAll(
    () => required(env, 'DINGTALK_TOKEN'),
    () => {
      const value = required(env, 'DINGTALK_AES_KEY');
      decodeAesKey(value);
      return value;
    },
  );
  return { token, aes_key: aesKey };
}

async function show(token: AccessToken, env: Environment): Promise<number> {
  const { reply } = await token.call('call_back/get_call_back');
  const tags = Array.isArray(reply.call_back_tag) ? reply.call_back_tag.join(', ') : String(reply.call_back_tag ?? '');
  // DingTalk answers with the token and AES key too: compare them with ours, never print them.
  const same = reply.token === env.DINGTALK_TOKEN?.trim() && reply.aes_key === env.DINGTALK_AES_KEY?.trim();
  process.stdout.write(`url   ${terminalSafe(String(reply.url ?? ''))}\ntags  ${terminalSafe(tags)}\ntoken and AES key ${same ? 'match' : 'differ from'} DINGTALK_TOKEN and DINGTALK_AES_KEY\n`);
  return 0;
}

/** Registers, or updates keeping what is not given, the URL and tags. */
async function write(action: string, token: AccessToken, secrets: { token: string; aes_key: string }, url: string | undefined, tags: string[] | undefined): Promise<number> {
  if (!url || !tags?.length) {
    const { reply } = await token.call('call_back/get_call_back');
    url ??= String(reply.url ?? '');
    if (!tags?.length) tags = Array.isArray(reply.call_back_tag) ? reply.call_back_tag.map(String) : [];
  }
  await token.call(`call_back/${action}_call_back`, {}, { call_back_tag: tags, ...secrets, url });
  process.stdout.write(`callback URL ${action === 'register' ? 'registered' : 'updated'}: ${terminalSafe(`${url} for ${tags.join(', ')}`)}\n`);
  return 0;
}
