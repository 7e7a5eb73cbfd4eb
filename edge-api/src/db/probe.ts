// The database check behind the public GET /health. Anyone can call /health, as often as they like, so a hit
// must not cost a Postgres connection: the database is probed at most once per interval per isolate, and
// requests that arrive while a probe runs wait for that probe instead of starting their own. Module state is
// per isolate, which is what a Worker shares between its concurrent requests.

interface ProbeState {
  ok: boolean;
  checkedAt: number;
  running?: Promise<boolean> | undefined;
}

// Keyed by database so that several configurations in one process (tests) keep separate answers.
const states = new Map<string, ProbeState>();

export interface ProbeOptions {
  key: string;
  intervalMs: number;
  /** Runs the actual check; a rejection means the database is unavailable. */
  check: () => Promise<unknown>;
  /** Keeps the probing request's context alive until the probe settles, even if its client goes away, so
   * the other requests waiting on it are answered. */
  keepAlive: (p: Promise<unknown>) => void;
}

export function databaseIsUp(opts: ProbeOptions): Promise<boolean> {
  const state = states.get(opts.key);
  if (state?.running) return state.running;
  if (state && Date.now() - state.checkedAt < opts.intervalMs) return Promise.resolve(state.ok);
  const running = opts.check().then(
    () => true,
    () => false,
  ).then((ok) => {
    states.set(opts.key, { ok, checkedAt: Date.now() });
    return ok;
  });
  states.set(opts.key, { ok: state?.ok ?? false, checkedAt: state?.checkedAt ?? 0, running });
  opts.keepAlive(running);
  return running;
}
