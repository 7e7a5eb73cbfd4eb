// Child processes of the local launcher (Postgres, wrangler dev, the agent) run in process groups of their own
// (spawned `detached`), so the SIGINT a terminal sends to its foreground group on Ctrl-C reaches only the
// launcher, which then stops them one by one in the reverse order of start, Postgres last.
//
// The price of their own groups: a launcher that dies without stopping them (SIGKILL, the OOM killer) would
// leave them running. So each launcher also starts a lifeline: a small watcher process, detached as well, that
// holds a pipe from the launcher. Whenever the launcher dies the pipe closes, and the watcher stops what is
// still registered with it, in the reverse order of registration, the same way the launcher would have.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Send this signal, then wait this long for the process to go before the next step. */
export type Step = [signal: NodeJS.Signals, waitMs: number];

export interface Target {
  pid: number;
  /** Signal the whole process group (wrangler's workerd children), or the process alone (Postgres' postmaster,
   * which stops its own backends in the order it chooses). */
  group: boolean;
  steps: Step[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Walks through the steps until `gone()`; a process that is already gone is left alone. */
export async function stopInSteps(target: Target, gone: () => boolean): Promise<void> {
  for (const [signal, waitMs] of target.steps) {
    if (gone()) return;
    try {
      process.kill(target.group ? -target.pid : target.pid, signal);
    } catch {
      return; // no such process (group): it is gone
    }
    const until = Date.now() + waitMs;
    while (!gone() && Date.now() < until) await sleep(50);
  }
}

/** A spawned child as `stopInSteps` sees it. */
export const exitedChild = (child: ChildProcess) => () => child.exitCode !== null || child.signalCode !== null;

let watcher: ChildProcess | undefined;

function lifeline(): ChildProcess {
  if (watcher) return watcher;
  watcher = spawn(process.execPath, [fileURLToPath(new URL("./lifeline-watch.ts", import.meta.url))], {
    detached: true,
    stdio: ["pipe", "ignore", "inherit"],
  });
  // Neither the watcher nor the pipe to it may keep the launcher alive; a watcher that died must not take the
  // launcher with it (EPIPE on the next registration).
  watcher.on("error", () => {});
  watcher.stdin!.on("error", () => {});
  watcher.unref();
  (watcher.stdin as unknown as { unref(): void }).unref();
  return watcher;
}

/** Has the lifeline stop `target` if this process dies first; returns the release for a clean stop. */
export function guard(target: Target): () => void {
  const w = lifeline();
  w.stdin!.write(JSON.stringify({ add: target }) + "\n");
  return () => {
    if (w.stdin!.writable) w.stdin!.write(JSON.stringify({ remove: target.pid }) + "\n");
  };
}
