/**
 * The one Function Compute adapter of the Alibaba Cloud handlers: the parts of an invocation they
 * read, how an answer goes back, and the clients kept per set of the role's keys.
 */

/** Temporary STS keys of the service's RAM role, as Function Compute passes them with each invocation. */
export interface RoleKeys {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** The parts of Function Compute's invocation context a handler reads. */
export interface FcContext {
  requestId?: string;
  /** Temporary STS keys of the service's RAM role; they rotate while the instance lives. */
  credentials?: RoleKeys;
  /** The function's configuration; `timeout` in seconds (Function Compute 2.0's context has no remaining-time call). */
  function?: { timeout?: number };
}

/** How a handler answers Function Compute: an error (the invocation failed), or its answer. */
export type FcCallback<T> = (error: Error | null, answer?: T) => void;

/** A Function Compute event handler answering `T`. */
export type FcHandler<T> = (event: unknown, context: FcContext, callback: FcCallback<T>) => void;

/** The event handler that runs `invoke` and hands its answer, or its failure, to Function Compute's callback. */
export function fcHandler<T>(invoke: (event: unknown, context: FcContext) => Promise<T>): FcHandler<T> {
  return (event, context, callback) => {
    invoke(event, context).then(
      (answer) => callback(null, answer),
      (error: Error) => callback(error),
    );
  };
}

/**
 * The role's keys of the invocation. @throws when Function Compute passed none: the service has no
 * RAM role, and `needs` says what the role is for.
 */
export function roleKeysOf(context: FcContext, needs: string): RoleKeys {
  if (!context.credentials) throw new Error(`Function Compute passed no credentials: the service needs a RAM role allowed to ${needs}`);
  return context.credentials;
}

/** An event handed over as bytes (Function Compute passes a Buffer), or undefined. */
export function eventBytes(event: unknown): Uint8Array | undefined {
  return Buffer.isBuffer(event) || event instanceof Uint8Array ? event : undefined;
}

/**
 * What a handler builds from the role's keys (a Tablestore client and what uses it), kept until
 * Function Compute hands over other keys: STS keys rotate while an instance lives. `build` also
 * gets what was built for the previous keys, for state that outlives them.
 */
export function keptPerRoleKeys<T>(build: (keys: RoleKeys, previous: T | undefined) => T): (keys: RoleKeys) => T {
  let current: { id: string; value: T } | undefined;
  return (keys) => {
    const id = `${keys.accessKeyId}\n${keys.securityToken ?? ''}`;
    if (current?.id !== id) current = { id, value: build(keys, current?.value) };
    return current.value;
  };
}
