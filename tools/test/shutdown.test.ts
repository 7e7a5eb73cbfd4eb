// Stopping the local stack the way people do: Ctrl-C in the terminal running `npm start` / `npm run demo`, or
// the launcher being killed outright. The launcher runs as a child in a process group of its own, as a shell
// runs a foreground job; a terminal's Ctrl-C is SIGINT to that whole group, which is what the test sends.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { pipeLines } from "../log.ts";
import { freePort } from "../ports.ts";

const LAUNCHER = fileURLToPath(new URL("./fixtures/launch-stack.ts", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Launched {
  child: ChildProcess;
  lines: string[];
  dataDir: string;
  ports: { pgPort: number; proxyPort: number; edgePort: number; adminPort: number };
  exited: Promise<number | null>;
  agentUrl: string;
}

let launched: Launched | undefined;

afterEach(async () => {
  // Whatever a failed assertion left behind: the launcher's group, and through its lifeline the parts.
  const run = launched;
  launched = undefined;
  if (!run) return;
  if (run.child.exitCode === null && run.child.signalCode === null) {
    try {
      process.kill(-run.child.pid!, "SIGKILL");
    } catch {}
    await run.exited;
  }
  // The lifeline stops Postgres once the launcher is gone; the folder goes after it.
  const pidFile = path.join(run.dataDir, "postgres", "cluster", "postmaster.pid");
  for (let i = 0; i < 400 && existsSync(pidFile); i++) await sleep(100);
  await rm(run.dataDir, { recursive: true, force: true });
});

async function launch(): Promise<Launched> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "wam-shutdown-"));
  await chmod(dataDir, 0o755); // as root, Postgres runs as the postgres user and must reach its folder
  const ports = { pgPort: await freePort(), proxyPort: await freePort(), edgePort: await freePort(), adminPort: await freePort() };
  const child = spawn(process.execPath, [LAUNCHER], {
    detached: true, // a process group of its own, like a terminal's foreground job
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      STACK_OPTIONS: JSON.stringify({ dataDir, ...ports, agent: "simulator" }),
      NO_COLOR: "1",
      AGENT_TOKEN: "",
      DASHBOARD_TOKEN: "",
    },
  });
  const lines: string[] = [];
  pipeLines(child.stdout, (l) => lines.push(l));
  pipeLines(child.stderr, (l) => lines.push(l));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  launched = { child, lines, dataDir, ports, exited, agentUrl: `http://127.0.0.1:${ports.adminPort}` };
  for (let i = 0; i < 1200 && !lines.some((l) => /^\[start\]\s+ready/.test(l)); i++) {
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  if (!lines.some((l) => /^\[start\]\s+ready/.test(l))) throw new Error(`the stack did not start:\n${lines.join("\n")}`);
  return launched;
}

/** Drops posted through the simulator right before the stop, so the agent is delivering when it comes. */
async function traffic(agentUrl: string, n: number): Promise<void> {
  const messages = Array.from({ length: n }, (_, i) => ({
    session: "primary",
    chatJid: "120363418298130331@g.us",
    senderJid: "27821234567@s.whatsapp.net",
    text: `DR${String(70000000 + i)} done`,
    id: `SHUTDOWN-${i}`,
  }));
  const res = await fetch(`${agentUrl}/simulate/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages }),
  });
  expect(res.status).toBe(200);
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

describe("stopping the local stack", () => {
  it("Ctrl-C stops agent, cron, edge and proxy in turn, then Postgres last with a smart shutdown", async () => {
    const run = await launch();
    await traffic(run.agentUrl, 50);
    process.kill(-run.child.pid!, "SIGINT"); // what the terminal does on Ctrl-C
    expect(await run.exited).toBe(0);

    const at = (re: RegExp) => {
      const i = run.lines.findIndex((l) => re.test(l));
      expect(i, `no line matching ${re} in:\n${run.lines.join("\n")}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      at(/^\[start\]\s+SIGINT; shutting down/),
      at(/^\[start\]\s+stopped agent/),
      at(/^\[start\]\s+stopped cron/),
      at(/^\[start\]\s+stopped edge/),
      at(/^\[start\]\s+stopped proxy/),
      at(/^\[pg\].*received smart shutdown request/),
      at(/^\[pg\].*database system is shut down/),
      at(/^\[start\]\s+stopped postgres/),
      at(/^\[start\]\s+stopped$/),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The agent was stopped by the launcher (SIGTERM), not by the terminal's SIGINT, and Postgres never
    // aborted anything under it.
    expect(run.lines.filter((l) => /^\[agent\].*shutting down/.test(l)).join("\n")).toMatch(/SIGTERM/);
    expect(run.lines.join("\n")).not.toMatch(/immediate shutdown|fast shutdown|terminating connection due to administrator command/);
    for (const port of Object.values(run.ports)) expect(await listening(port)).toBe(false);
  }, 180_000);

  it("a launcher killed outright still takes every part down, Postgres cleanly", async () => {
    const run = await launch();
    process.kill(run.child.pid!, "SIGKILL"); // the launcher alone, as the OOM killer would
    await run.exited;
    const pidFile = path.join(run.dataDir, "postgres", "cluster", "postmaster.pid");
    for (let i = 0; i < 600; i++) {
      const up = await Promise.all(Object.values(run.ports).map(listening));
      if (!up.some(Boolean) && !existsSync(pidFile)) break;
      await sleep(100);
    }
    expect(await Promise.all(Object.values(run.ports).map(listening))).toEqual([false, false, false, false]);
    // Postgres removes its pid file on a clean shutdown only.
    expect(existsSync(pidFile)).toBe(false);
  }, 180_000);
});
