// Runs the edge Worker in workerd under `wrangler dev`, offline, with its bindings from an env file (so no
// secret appears on a command line), and waits until it answers.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pipeLines, type Log } from "./log.ts";
import { exitedChild, guard, stopInSteps, type Target } from "./processes.ts";
import { WRANGLER_BIN, WRANGLER_OFFLINE_ENV } from "./wrangler.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface EdgeDev {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startEdgeDev(opts: {
  port: number;
  vars: Record<string, string>;
  envFile: string;
  stateDir: string;
  log: Log;
  timeoutMs?: number;
}): Promise<EdgeDev> {
  const lines = Object.entries(opts.vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  await writeFile(opts.envFile, lines.join("\n") + "\n", { mode: 0o600 });
  const args = [
    WRANGLER_BIN, "dev",
    "--env=",
    "--ip", "127.0.0.1",
    "--port", String(opts.port),
    "--test-scheduled",
    "--show-interactive-dev-session=false",
    "--env-file", opts.envFile,
    "--persist-to", opts.stateDir,
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...WRANGLER_OFFLINE_ENV, WRANGLER_LOG_PATH: path.join(opts.stateDir, "logs"), FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so stop() also ends workerd
  });
  pipeLines(child.stdout, opts.log);
  pipeLines(child.stderr, opts.log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // The whole group, so workerd goes too; the lifeline does the same if the launcher dies without stop().
  const target: Target = { pid: child.pid!, group: true, steps: [["SIGTERM", 5000], ["SIGKILL", 0]] };
  const release = guard(target);
  void exited.then(release);
  const url = `http://127.0.0.1:${opts.port}`;

  const stop = async () => {
    await stopInSteps(target, exitedChild(child));
    await exited;
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let dead = false;
  void exited.then(() => (dead = true));
  while (Date.now() < deadline && !dead) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return { url, child, exited, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await stop();
  throw new Error(dead ? "wrangler dev exited before it served requests" : "wrangler dev did not answer in time");
}

/** Fires the Worker's scheduled() handler the way a cron trigger would (needs --test-scheduled). */
export async function fireCron(url: string, cron = "* * * * *"): Promise<number> {
  const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron).replaceAll("%20", "+")}`);
  await res.body?.cancel();
  return res.status;
}
