/**
 * The one error hierarchy of the project. Every error the pipeline can answer with carries its
 * HTTP status and a short machine-readable code; messages never contain secrets or plaintext.
 */
export class CallbackError extends Error {
  /** HTTP status the pipeline answers with. */
  readonly status: number = 500;
  /** Stable machine-readable code, the `error` field of the JSON body. */
  readonly code: string = 'internal';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CallbackError';
  }
}

/** 400: the request or the decrypted payload is malformed. */
export class BadRequestError extends CallbackError {
  override readonly status = 400;
  override readonly code: string = 'bad_request';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BadRequestError';
  }
}

/** 400: the ciphertext does not decrypt to a valid DingTalk plaintext. */
export class DecryptError extends BadRequestError {
  override readonly code = 'bad_ciphertext';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DecryptError';
  }
}

/** 401: the signature does not match, or the timestamp is outside the allowed skew. */
export class SignatureError extends CallbackError {
  override readonly status = 401;
  override readonly code: string = 'bad_signature';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignatureError';
  }
}

/** 403: the ciphertext was made for an ownerKey this function does not serve. */
export class OwnerKeyError extends CallbackError {
  override readonly status = 403;
  override readonly code = 'wrong_owner_key';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OwnerKeyError';
  }
}

/** 405: DingTalk only ever POSTs. */
export class MethodNotAllowedError extends CallbackError {
  override readonly status = 405;
  override readonly code = 'method_not_allowed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MethodNotAllowedError';
  }
}

/** 413: the body is over the size limit. */
export class PayloadTooLargeError extends CallbackError {
  override readonly status = 413;
  override readonly code = 'payload_too_large';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PayloadTooLargeError';
  }
}

/** 503: the event store failed, so nothing was stored and DingTalk must retry. */
export class StoreError extends CallbackError {
  override readonly status = 503;
  override readonly code = 'store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** A setting is missing or invalid: thrown at cold start, never answered over HTTP. */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** 401: the push's timestamp is outside `DINGTALK_MAX_SKEW_SECONDS` (optional hardening). */
export class StaleTimestampError extends SignatureError {
  override readonly code = 'stale_timestamp';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StaleTimestampError';
  }
}
