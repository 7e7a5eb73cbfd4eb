/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** A sleep that wake() or stop can cut short. */
export function wakeableSleep() {
  let wakeUp: (() => void) | undefined;
  let woken = false;
  return {
    sleep(ms: number): Promise<void> {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          wakeUp = undefined;
          resolve();
        }
        wakeUp = done;
      });
    },
    wake() {
      if (wakeUp) wakeUp();
      else woken = true;
    },
  };
}
