/**
 * The one error hierarchy of the project. Every error the pipeline can answer with carries its
 * HTTP status and a short machine-readable code; messages never contain secrets or plaintext.
 * Names are spelled out rather than taken from the class, which a minifier renames.
 */
export class CallbackError extends Error {
  override name = 'CallbackError';
  /** HTTP status the pipeline answers with. */
  readonly status: number = 500;
  /** Stable machine-readable code, the `error` field of the JSON body. */
  readonly code: string = 'internal';
}

/** 400: the request or the decrypted payload is malformed. */
export class BadRequestError extends CallbackError {
  override name = 'BadRequestError';
  override readonly status = 400;
  override readonly code: string = 'bad_request';
}

/** The ciphertext does not decrypt to a valid DingTalk plaintext (the DingTalk side opening a reply). */
export class DecryptError extends BadRequestError {
  override name = 'DecryptError';
  override readonly code = 'bad_ciphertext';
}

/**
 * 400: a signed push that does not open to a message for this function, whatever the reason:
 * padding, length, UTF-8, JSON, `EventType`, a key named twice, the ownerKey. Every one of them gets
 * this same status, code and message, so that the answers are no oracle for someone who knows the
 * token but not the AES key; `detail` says which it was, for the log line only.
 */
export class UndecryptableError extends BadRequestError {
  override name = 'UndecryptableError';
  override readonly code = 'undecryptable';

  constructor(readonly detail: string) {
    super('encrypt does not decrypt to a DingTalk message for this function');
  }
}

/** 401: the signature does not match. */
export class SignatureError extends CallbackError {
  override name = 'SignatureError';
  override readonly status = 401;
  override readonly code: string = 'bad_signature';
}

/** 401: the push's timestamp is outside `DINGTALK_MAX_SKEW_SECONDS` (optional hardening). */
export class StaleTimestampError extends SignatureError {
  override name = 'StaleTimestampError';
  override readonly code = 'stale_timestamp';
}

/** 405: DingTalk only ever POSTs. */
export class MethodNotAllowedError extends CallbackError {
  override name = 'MethodNotAllowedError';
  override readonly status = 405;
  override readonly code = 'method_not_allowed';
}

/** 413: the body is over the size limit. */
export class PayloadTooLargeError extends CallbackError {
  override name = 'PayloadTooLargeError';
  override readonly status = 413;
  override readonly code = 'payload_too_large';
}

/**
 * 413: the event can never be stored as it is (over the store's item or key limits, or refused by
 * the store's validation). Not a 503: a retry of the same push would fail the same way. The
 * message says why, without quoting the payload.
 */
export class UnstorableEventError extends CallbackError {
  override name = 'UnstorableEventError';
  override readonly status = 413;
  override readonly code = 'event_unstorable';
}

/** 503: the event store failed, so nothing was stored and DingTalk must retry. */
export class StoreError extends CallbackError {
  override name = 'StoreError';
  override readonly status = 503;
  override readonly code = 'store_unavailable';
}

/** One setting that is missing or invalid: which one, and what is wrong with it (never its value). */
export interface ConfigProblem {
  /** The environment variable (or SSM parameter) at fault. */
  readonly variable: string;
  /** What is wrong, for example `is not set`. */
  readonly problem: string;
}

/**
 * Settings are missing or invalid: thrown when a function or tool starts, never answered over HTTP.
 * It lists every problem found, so that one run shows all there is to fix; the message reads
 * `VARIABLE: problem; OTHER: problem`, one line, as a log line must be.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(variable: string, problem: string);
  constructor(problems: readonly ConfigProblem[]);
  constructor(first: string | readonly ConfigProblem[], problem = '') {
    const problems = typeof first === 'string' ? [{ variable: first, problem }] : first;
    if (problems.length === 0) throw new TypeError('a ConfigError needs at least one problem');
    super(problems.map((each) => `${each.variable}: ${each.problem}`).join('; '));
    this.problems = problems;
  }

  /** The first variable at fault. */
  get variable(): string {
    return this.problems[0]!.variable;
  }
}
