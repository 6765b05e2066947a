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

/** Parses `args` for `command`, turning unknown flags and bad values into {@link UsageError}. */
export function parseCommandArgs(command: Command, args: string[]) {
  try {
    return parseArgs({ args, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    // node's own advice on an unknown option is about positionals that start with '-': a typo is likelier.
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message);
    const known = Object.keys(command.options).map((name) => `--${name}`);
    throw new UsageError(unknown ? `unknown option ${unknown[1]}; ${command.name} takes ${[...known, '--help'].join(', ')}` : (error as Error).message);
  }
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
