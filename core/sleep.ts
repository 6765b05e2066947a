import { setTimeout as wait } from 'node:timers/promises';

/**
 * Waits `ms` between two tries of a call; ends at once when `signal` aborts, before or during the
 * wait, rejecting with the signal's reason (a call past its deadline is over then, not after the wait).
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await wait(ms, undefined, signal && { signal }).catch((error: unknown) => {
    throw signal?.aborted ? signal.reason : error;
  });
}
