// The polling loop every background part of the agent runs on. Waits here are a minute long, so a pass that runs
// within a test ran because of a wake, never because a timer fired; "settled" means every promise reaction queued
// so far has run, which is all a woken loop needs to start its next pass.
import { afterEach, describe, expect, it } from "vitest";
import { startLoop, type Loop, type LoopOptions, type PassOutcome } from "../src/sync/loop.ts";

const MINUTE = 60_000;
const settled = () => new Promise<void>((r) => setImmediate(r));

let loop: Loop | undefined;
afterEach(async () => {
  await loop?.stop();
  loop = undefined;
});

/** A loop whose passes answer from `outcomes` in turn (the last one repeats); an Error is thrown. */
function counting(outcomes: (PassOutcome | Error)[], opts: Partial<LoopOptions> = {}) {
  const seen = { passes: 0, failures: [] as { err: unknown; retryInMs: number; inARow: number }[], recovered: 0 };
  loop = startLoop({
    pollMs: MINUTE,
    pass: async () => {
      const o = outcomes[Math.min(seen.passes, outcomes.length - 1)]!;
      seen.passes += 1;
      if (o instanceof Error) throw o;
      return o;
    },
    onFailed: (f) => seen.failures.push(f),
    onRecovered: () => (seen.recovered += 1),
    ...opts,
  });
  return seen;
}

describe("polling loop", () => {
  it("waits the poll interval after an idle pass, and wake() runs the next pass at once", async () => {
    const seen = counting(["idle"]);
    await settled();
    expect(seen.passes).toBe(1);
    loop!.wake();
    await settled();
    expect(seen.passes).toBe(2);
  });

  it("keeps a wake that comes while a pass runs: the next pass follows without a wait", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let passes = 0;
    loop = startLoop({
      pollMs: MINUTE,
      pass: async () => {
        passes += 1;
        if (passes === 1) await gate;
        return "idle";
      },
    });
    await settled();
    loop.wake();
    release();
    await settled();
    expect(passes).toBe(2);
  });

  it("waits the time an idle pass names, and a wake cuts it short", async () => {
    const seen = counting([{ waitMs: 20 }, { waitMs: MINUTE }]);
    await settled();
    expect(seen.passes).toBe(1);
    await new Promise((r) => setTimeout(r, 60)); // well past the 20 ms it asked for
    expect(seen.passes).toBe(2);
    await new Promise((r) => setTimeout(r, 60)); // not the minute it asks for now
    expect(seen.passes).toBe(2);
    loop!.wake();
    await settled();
    expect(seen.passes).toBe(3);
  });

  it("goes again at once after a pass that did work", async () => {
    const seen = counting(["more", "more", "idle"]);
    await settled();
    expect(seen.passes).toBe(3);
  });

  it("backs off after failures, longer each time in a row, and reports each with what was thrown", async () => {
    const boom = new Error("edge unreachable");
    const seen = counting([boom], { backoff: { initialMs: MINUTE, maxMs: 16 * MINUTE } });
    for (let i = 0; i < 3; i++) {
      await settled();
      loop!.wake();
    }
    await settled();
    expect(seen.failures.map((f) => f.inARow)).toEqual([1, 2, 3, 4]);
    expect(seen.failures[0]!.err).toBe(boom);
    // Equal jitter: each wait is between half and all of initialMs · 2^(failures before it).
    seen.failures.forEach((f, i) => {
      expect(f.retryInMs).toBeGreaterThanOrEqual((MINUTE * 2 ** i) / 2);
      expect(f.retryInMs).toBeLessThanOrEqual(MINUTE * 2 ** i);
    });
    expect(loop!.status()).toEqual({ failing: true, failuresInARow: 4 });
  });

  it("never waits less than the backoff's floor, and waits the poll interval on failure without a backoff", async () => {
    const floored = counting(["failed"], { backoff: { initialMs: 1, maxMs: 2, minMs: MINUTE } });
    await settled();
    expect(floored.failures[0]!.retryInMs).toBe(MINUTE);
    await loop!.stop();
    const plain = counting(["failed"], { pollMs: 2 * MINUTE });
    await settled();
    expect(plain.failures[0]).toEqual({ err: undefined, retryInMs: 2 * MINUTE, inARow: 1 });
  });

  it("a wake cuts a backoff short, unless the loop holds wakes during backoff", async () => {
    const backoff = { initialMs: MINUTE, maxMs: MINUTE };
    const woken = counting(["failed"], { backoff });
    await settled();
    loop!.wake();
    await settled();
    expect(woken.passes).toBe(2);
    await loop!.stop();

    const held = counting(["failed"], { backoff, holdWakesDuringBackoff: true });
    await settled();
    loop!.wake();
    await settled();
    expect(held.passes).toBe(1);
  });

  it("a loop that holds wakes during backoff still wakes for them while it is not failing", async () => {
    const seen = counting(["idle"], { backoff: { initialMs: MINUTE, maxMs: MINUTE }, holdWakesDuringBackoff: true });
    await settled();
    loop!.wake();
    await settled();
    expect(seen.passes).toBe(2);
  });

  it("reports the recovery once and starts counting failures afresh", async () => {
    const seen = counting(["failed", "failed", "idle", "failed"], { backoff: { initialMs: MINUTE, maxMs: MINUTE } });
    for (let i = 0; i < 3; i++) {
      await settled();
      loop!.wake();
    }
    await settled();
    expect(seen.recovered).toBe(1);
    expect(seen.failures.map((f) => f.inARow)).toEqual([1, 2, 1]);
  });

  it("stop() ends a wait at once, a held backoff included", async () => {
    const seen = counting(["failed"], { backoff: { initialMs: MINUTE, maxMs: MINUTE }, holdWakesDuringBackoff: true });
    await settled();
    await loop!.stop();
    expect(seen.passes).toBe(1);
  });

  it("stop() lets the pass in progress finish, runs no other, and reports no failure of a pass it cut short", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const failures: unknown[] = [];
    let passes = 0;
    loop = startLoop({
      pollMs: MINUTE,
      pass: async () => {
        passes += 1;
        await gate;
        throw new Error("abandoned: the agent is shutting down");
      },
      onFailed: (f) => failures.push(f),
    });
    await settled();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await settled();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect({ passes, failures }).toEqual({ passes: 1, failures: [] });
  });
});
