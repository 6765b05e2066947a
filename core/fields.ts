/**
 * Reading one field of what DingTalk sent (a message, a failed-list item, a query): the few rules
 * every reader shares, so a field means the same whichever way the event came.
 */

/** A string with at least one character; anything else is no value. */
export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A whole number of at least 0: DingTalk sends times and ids as numbers in some events and as digit
 * strings (spaces around allowed) in others; anything else, or a number beyond 2^53, is no value.
 */
export function wholeNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

/** The first of `names` that `fields` holds as a non-empty string (a message's fields, a request's query). */
export function firstString(fields: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = nonEmptyString(fields[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A JSON object (not null, not an array); anything else is no object. */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
