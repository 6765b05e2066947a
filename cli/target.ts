import { loadSettings } from '../core/settings';
import { withDevCredentials } from '../providers/local/dev-credentials';
import { httpUrlFlag, stringFlag, UsageError } from './command';
import type { Target } from './deliver';

/** Where `npm start` serves pushes. */
export const LOCAL_PUSH_URL = 'http://localhost:3000/dingtalk';

/**
 * The push target from `--url`, `--owner-key` and the `DINGTALK_*` variables, falling back to the
 * development credentials of `npm start` when none is set, exactly as the function does.
 */
export function targetFrom(values: Record<string, string | boolean | undefined>): Target & { usingDev: boolean } {
  const { env, usingDev } = withDevCredentials(process.env);
  const settings = loadSettings(env);
  const ownerKey = stringFlag(values['owner-key']) ?? settings.ownerKeys[0];
  if (!ownerKey) throw new UsageError('no ownerKey: set DINGTALK_OWNER_KEY or --owner-key');
  const url = httpUrlFlag(stringFlag(values.url) ?? LOCAL_PUSH_URL, 'url');
  return { url, settings, ownerKey, usingDev };
}

/** The flags every command that pushes takes. */
export const TARGET_OPTIONS = {
  url: { type: 'string' },
  'owner-key': { type: 'string' },
} as const;

export const TARGET_HELP = `  --url URL          the callback URL (default ${LOCAL_PUSH_URL}, the one npm start serves)
  --owner-key KEY    encrypt for this ownerKey (default: the first of DINGTALK_OWNER_KEY)`;

/** Where the credentials of a push come from: prose for after the option list. */
export const CREDENTIALS_HELP = `Credentials come from DINGTALK_TOKEN, DINGTALK_AES_KEY and DINGTALK_OWNER_KEY, as the function
reads them; with none of them set, the development credentials of npm start are used.`;

/**
 * What to do next, printed on standard error after the result: when nothing answered at `url`,
 * start it or point --url at it; when the function refused the signature, it has other credentials.
 */
export function hints(url: string, { unreachable, codes }: { unreachable?: boolean; codes: Iterable<string | undefined> }): string {
  const lines: string[] = [];
  if (unreachable) lines.push(`nothing answered at ${url}: start the callback (npm start), or point --url at where it runs (npm start -- --httpPort P serves http://localhost:P/dingtalk)`);
  if ([...codes].includes('bad_signature')) {
    lines.push(`the function at ${url} refused the signature: it may use other credentials than these (npm start prints the ones it uses); set DINGTALK_TOKEN, DINGTALK_AES_KEY and DINGTALK_OWNER_KEY to the function's`);
  }
  return lines.map((line) => `${line}\n`).join('');
}
