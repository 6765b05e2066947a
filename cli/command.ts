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
    throw new UsageError((error as Error).message);
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
