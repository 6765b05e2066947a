import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One subcommand of `dingtalk-callback`. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The whole `--help` text. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Runs with parsed flags and positionals; resolves to the exit status. */
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** A mistake in how the command was called: shown with a pointer to `--help`, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Parses `args` for `command`, turning unknown flags and bad values into {@link UsageError}. A
 * negative number after a flag that takes a value is that value (`--limit -1`), so that the flag's
 * own check can say what it allows.
 */
export function parseCommandArgs(command: Command, args: string[]) {
  const options = { ...command.options, help: { type: 'boolean', short: 'h' } } as const;
  const takesValue = (arg: string) => arg.startsWith('--') && command.options[arg.slice(2)]?.type === 'string';
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const [arg, next] = [args[index]!, args[index + 1]];
    if (takesValue(arg) && next !== undefined && /^-\d/.test(next)) joined.push(`${arg}=${args[++index]}`);
    else joined.push(arg);
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    // node's own advice on an unknown option is about positionals that start with '-': a typo is likelier.
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (unknown) {
      const known = [...Object.keys(command.options).map((name) => `--${name}`), '--help'];
      const near = closest(unknown[1]!, known);
      throw new UsageError(`unknown option ${unknown[1]}${near ? ` (did you mean ${near}?)` : ''}; ${command.name} takes ${known.join(', ')}`);
    }
    const valueless = /^Option '(-[^' ]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(message);
    if (valueless) throw new UsageError(`${valueless[1]} needs a value`);
    throw new UsageError(message);
  }
}

/**
 * The candidate nearest to `word` by edit distance, when it is near enough to be a likely typo
 * (at most a third of its letters off, and at least one letter right); else undefined.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance > 0 && best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

/** Levenshtein distance: the fewest single-letter insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** `1 event`, `2 events`: a count and its noun, plural unless the count is one. */
export function counted(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}

/**
 * An `http://` or `https://` URL flag, or a {@link UsageError} saying what is wrong with it:
 * `localhost:3000/dingtalk` parses as a URL of scheme `localhost:`, and would fail far from here.
 */
export function httpUrlFlag(value: string, flag: string): string {
  if (!/^[a-z][a-z\d+.-]*:\/\//i.test(value) && URL.canParse(`http://${value}`)) {
    throw new UsageError(`--${flag} ${value} lacks its scheme: did you mean --${flag} http://${value} ?`);
  }
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new UsageError(`--${flag} must be an http:// or https:// URL, not ${value}`);
  return value;
}

/** A flag's value as a whole number within bounds, or a {@link UsageError} naming the flag. */
export function wholeNumber(value: string | boolean | undefined, flag: string, fallback: number, min = 1, max = 1_000_000): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}`);
  return number;
}

/** A string flag's value; undefined when it is absent (or, for a string flag, never a boolean). */
export function stringFlag(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A time flag: ISO-8601 (`2026-11-27T08:00:00Z`; a time without a zone is UTC), milliseconds since
 * the epoch (`1795766400000`), or a duration back from `now` (`90m`, `6h`, `2d`).
 * @returns undefined when the flag is absent.
 * @throws UsageError naming the flag for anything else.
 */
export function timeFlag(value: string | boolean | undefined, flag: string, now: Date): Date | undefined {
  const text = stringFlag(value)?.trim();
  if (!text) return undefined;
  const duration = DURATION.exec(text);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  const zoned = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text) ? `${text}Z` : text;
  const time = /^\d{10,}$/.test(text) ? new Date(Number(text)) : new Date(zoned);
  if (!/^(\d{10,}|\d{4}-\d{2}-\d{2}.*)$/.test(text) || Number.isNaN(time.getTime())) {
    throw new UsageError(`--${flag} must be an ISO-8601 time (2026-11-27T08:00:00Z), milliseconds since the epoch, or a duration (90m, 6h, 2d)`);
  }
  return time;
}

/** What to say of a `--since` later than `now`: nothing can have been received since then. */
export function inTheFuture(since: Date, now: Date): string {
  return `--since ${since.toISOString()} is in the future (it is now ${now.toISOString()})`;
}
