// The one shape of the agent's background work (delivery, feedback, heartbeat, project sync): run a pass, wait,
// run again. How long it waits depends on what the pass came to — nothing to do waits the poll interval, more to
// do goes again at once, a failure waits a backoff delay that grows with each failure in a row. wake() cuts a
// wait short; stop() ends the loop once the pass in progress is over, never in the middle of one.
import { backoffDelay } from "./backoff.ts";

/** What one pass came to. A pass that throws counts as "failed"; `{ waitMs }` is an idle pass that knows when
 * its next piece of work falls due. */
export type PassOutcome = "idle" | "more" | "failed" | { waitMs: number };

export interface LoopOptions {
  pass: () => Promise<PassOutcome>;
  /** The wait after an idle pass. */
  pollMs: number;
  /** Waits after failures in a row; without it a failed pass waits `pollMs` like an idle one. `minMs` is a floor. */
  backoff?: { initialMs: number; maxMs: number; minMs?: number };
  /** wake() leaves a backoff wait alone: for a loop woken by every new piece of work (delivery, by each stored
   * drop), so a failing peer is not sent a request per piece. */
  holdWakesDuringBackoff?: boolean;
  /** Each failure, with what was thrown (undefined when the pass answered "failed") and the wait that follows. */
  onFailed?: (failure: { err: unknown; retryInMs: number; inARow: number }) => void;
  /** The first pass that did not fail after one or more that did. */
  onRecovered?: () => void;
}

export interface Loop {
  /** Run the next pass now instead of after the current wait (or at once after the pass in progress). */
  wake(): void;
  /** Resolves when the loop has ended; the pass in progress finishes first. */
  stop(): Promise<void>;
  status(): { failing: boolean; failuresInARow: number };
}

export function startLoop(opts: LoopOptions): Loop {
  const sleeper = wakeableSleep();
  let stopped = false;
  let failures = 0;

  const done = (async () => {
    while (!stopped) {
      let outcome: PassOutcome;
      let err: unknown;
      try {
        outcome = await opts.pass();
      } catch (e) {
        outcome = "failed";
        err = e;
      }
      if (stopped) break;
      if (outcome === "failed") {
        const backoff = opts.backoff;
        const retryInMs = backoff
          ? Math.max(backoff.minMs ?? 0, backoffDelay(failures, backoff.initialMs, backoff.maxMs))
          : opts.pollMs;
        failures += 1;
        opts.onFailed?.({ err, retryInMs, inARow: failures });
        await sleeper.sleep(retryInMs);
        continue;
      }
      if (failures) opts.onRecovered?.();
      failures = 0;
      if (outcome === "idle") await sleeper.sleep(opts.pollMs);
      else if (typeof outcome === "object") await sleeper.sleep(Math.max(0, outcome.waitMs));
    }
  })();

  return {
    wake() {
      if (failures === 0 || !opts.holdWakesDuringBackoff) sleeper.wake();
    },
    async stop() {
      stopped = true;
      sleeper.wake();
      await done;
    },
    status: () => ({ failing: failures > 0, failuresInARow: failures }),
  };
}

/** A sleep that wake() cuts short; a wake while nothing sleeps makes the next sleep return at once. */
function wakeableSleep() {
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
