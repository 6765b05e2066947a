import { ConfigError, type ConfigProblem } from './errors';

/** The environment variables a function or tool reads, by name (`process.env` or a test's own). */
export type Environment = Record<string, string | undefined>;

/**
 * Runs every read, then throws one {@link ConfigError} listing all the problems they found, so a
 * deploy with three bad settings is fixed in one go rather than in three. Any other error is thrown
 * as it is, at once.
 */
export function readAll<T extends readonly unknown[]>(...reads: { [K in keyof T]: () => T[K] }): T {
  const problems: ConfigProblem[] = [];
  const values = reads.map((read) => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return values as unknown as T;
}

/** {@link readAll} for reads that may wait (on a secret store, say): they run side by side. */
export async function readAllAsync<T extends readonly unknown[]>(...reads: { [K in keyof T]: () => T[K] | Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(reads.map(async (read) => read()));
  const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  const other = failed.find((result) => !(result.reason instanceof ConfigError));
  if (other) throw other.reason;
  if (failed.length > 0) throw new ConfigError(failed.flatMap((result) => (result.reason as ConfigError).problems));
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** A variable's trimmed value. @throws ConfigError naming it when it is unset or blank. */
export function required(env: Environment, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ConfigError(variable, 'is not set');
  return value;
}

/** A variable's trimmed value, or undefined when it is unset or blank. */
export function optional(env: Environment, variable: string): string | undefined {
  return env[variable]?.trim() || undefined;
}

/**
 * A variable's value as a whole number of at least `min`, or undefined when it is unset or blank.
 * @throws ConfigError naming it when it is anything else.
 */
export function optionalWholeNumber(env: Environment, variable: string, min: number, unit: string): number | undefined {
  const value = optional(env, variable);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new ConfigError(variable, `must be a whole number of ${unit}, ${min} or more`);
  return number;
}
