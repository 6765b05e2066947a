/**
 * What a function builds once per instance (settings, clients) at its first invocation rather than
 * at load, so that a bad setting fails an invocation, where the platform logs it, instead of the
 * load. A success is kept for the instance's life; a failure (a missing variable, the secret store
 * down) is not: the next invocation tries again, so a fixed setting or a recovered service needs no
 * new instance.
 */
export function lazySetup<T>(build: () => T | Promise<T>): () => Promise<T> {
  let ready: Promise<T> | undefined;
  return () =>
    (ready ??= Promise.resolve()
      .then(build)
      .catch((error: unknown) => {
        ready = undefined;
        throw error;
      }));
}
