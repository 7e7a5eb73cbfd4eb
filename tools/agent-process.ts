// Runs the agent (the same `node agent/src/main.ts` the Docker image runs) as a child of the local launcher,
// its JSON logs made readable with pino-pretty and prefixed like the rest of the stack.
import { spawn } from "node:child_process";
import path from "node:path";
import PinoPretty from "pino-pretty";
import { ROOT } from "./edge-dev.ts";
import { pipeLines, type Log } from "./log.ts";
import { exitedChild, guard, stopInSteps, type Target } from "./processes.ts";

/**
 * Node flags the agent runs with, here and in Dockerfile.agent's CMD (keep them the same). --optimize-for-size:
 * V8 otherwise keeps the heap pages a burst of messages needed long after (measured: ~245 MB resident after
 * 100,000 messages on three sessions, ~165 MB with it), for no throughput lost at the agent's message rates.
 */
export const AGENT_NODE_FLAGS = ["--optimize-for-size"];

/**
 * glibc malloc settings the agent runs with, here and in Dockerfile.agent's ENV (keep them the same; the
 * environment may override them). Photos pass through as buffers of a few hundred KB: with glibc's default the
 * mmap threshold climbs after the first ones are freed, later ones land in the main heap and their holes stay
 * resident. A fixed 128 KiB threshold keeps every photo-sized buffer in its own mapping, given back on free, and two
 * arenas suffice for one JS thread and libuv's pool (measured, 500 photos: 223 → 184 MB resident; 144 → 130 MB idle).
 */
export const AGENT_MALLOC_ENV = { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "131072" };

export interface AgentProcess {
  pid: number;
  adminUrl: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startAgentProcess(opts: { env: Record<string, string>; adminPort: number; log: Log }): Promise<AgentProcess> {
  const pretty = PinoPretty.prettyFactory({ colorize: process.stdout.isTTY, translateTime: "HH:MM:ss", ignore: "pid,hostname,name", singleLine: true });
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, path.join(ROOT, "agent/src/main.ts")], {
    cwd: ROOT,
    env: { ...AGENT_MALLOC_ENV, ...process.env, ...opts.env, ADMIN_PORT: String(opts.adminPort) },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a terminal's Ctrl-C must not reach it before the launcher decides to stop it.
    detached: true,
  });
  // The agent exits within 10 s of SIGTERM by itself; the rest is a safety net.
  const target: Target = { pid: child.pid!, group: true, steps: [["SIGTERM", 15_000], ["SIGKILL", 0]] };
  const release = guard(target);
  const show = (line: string) => {
    if (line.startsWith("{")) {
      try {
        return opts.log(pretty(JSON.parse(line)).trimEnd());
      } catch {
        /* not a log record: show as is */
      }
    }
    opts.log(line);
  };
  pipeLines(child.stdout, show);
  pipeLines(child.stderr, show);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  void exited.then(release);
  const adminUrl = `http://127.0.0.1:${opts.adminPort}`;
  const deadline = Date.now() + 30_000;
  const stop = async () => {
    await stopInSteps(target, exitedChild(child));
    await exited;
  };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${adminUrl}/health`);
      await res.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error("agent did not answer on its admin port in 30 s");
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { pid: child.pid!, adminUrl, exited, stop };
}
