/**
 * Waiting before a retry: exponential backoff with full jitter (a random
 * wait up to base * 2^(n-1), capped), so that clients that failed together
 * do not retry together.
 */
export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The wait before retry number `retry` (1 for the first retry). */
export function backoffDelay(backoff: Backoff, retry: number): number {
  const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.random() * ceiling;
}

/** Resolves after `ms`; `unref`: a wait that must not keep the process alive (a bound raced against real work). */
export function sleep(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref === true) timer.unref();
  });
}
