import { loadSettings } from '../core/settings';
import { withDevCredentials } from '../providers/local/dev-credentials';
import { stringFlag, UsageError } from './command';
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
  const url = stringFlag(values.url) ?? LOCAL_PUSH_URL;
  if (!URL.canParse(url)) throw new UsageError(`--url is not a URL: ${url}`);
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

/** What to do when nothing answers at `url`: printed on standard error after the result. */
export function unreachableHint(url: string): string {
  return `nothing answered at ${url}: start the callback (npm start), or point --url at where it runs (npm start -- --httpPort P serves http://localhost:P/dingtalk)\n`;
}
