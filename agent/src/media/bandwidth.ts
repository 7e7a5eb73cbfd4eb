// The images' share of the line (media.maxBytesPerMinute): a token bucket holding a minute's worth of bytes,
// refilled continuously. A transfer starts when the bucket is not in debt and may take it into debt (an image
// larger than a minute's budget still goes, and the next one waits for the debt to be paid back), so over time
// images never average more than the cap, whatever their sizes. Downloads use it now, uploads to the edge will.
import { setTimeout as sleep } from "node:timers/promises";

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}) };

export function bandwidthBudget(bytesPerMinute: number, clock: Clock = realClock) {
  const perMs = bytesPerMinute / 60_000;
  let tokens = bytesPerMinute;
  let at = clock.now();
  const refill = () => {
    const now = clock.now();
    tokens = Math.min(bytesPerMinute, tokens + (now - at) * perMs);
    at = now;
  };
  return {
    /** Resolves once `bytes` may go; rejects if `signal` aborts the wait. */
    async take(bytes: number, signal?: AbortSignal): Promise<void> {
      for (;;) {
        refill();
        if (tokens >= 0) {
          tokens -= bytes;
          return;
        }
        await clock.sleep(Math.max(1, Math.ceil(-tokens / perMs)), signal);
      }
    },
    /** Bytes that went without a take (a transfer larger than announced), or came back (negative: smaller). */
    spend(bytes: number): void {
      refill();
      tokens -= bytes;
    },
  };
}

export type BandwidthBudget = ReturnType<typeof bandwidthBudget>;
