// Test rig for the agent: the real edge (tools/test/edge.ts: the Worker's fetch handler on a local HTTP server,
// against a fresh real Postgres through the Neon driver), and agents on the simulator transport, in-process or as
// a child process running the same entry point as production.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { freePort } from "../../tools/ports.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, LAWLEY, PROJECTS, startEdgeServer, type EdgeServer } from "../../tools/test/edge.ts";
import { startAgent, type Agent } from "../src/agent.ts";
import { AgentConfig } from "../src/config.ts";
import { AgentEnv } from "../src/env.ts";

export { AGENT_TOKEN, DASHBOARD_TOKEN, LAWLEY, PROJECTS, startEdgeServer, type EdgeServer };

export function testConfig(over: Partial<Record<string, unknown>> = {}): AgentConfig {
  return AgentConfig.parse({
    sessions: [
      { name: "primary", role: "capture" },
      { name: "backup", role: "capture" },
      { name: "sender", role: "sender" },
    ],
    projects: PROJECTS,
    backoff: { initialMs: 50, maxMs: 400 },
    delivery: { pollMs: 100, batchSize: 500 },
    ...over,
  });
}

export async function tempDir(prefix = "wam-agent-"): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function startTestAgent(edgeUrl: string, opts: { dataDir?: string; config?: AgentConfig } = {}): Promise<Agent> {
  const env = AgentEnv.parse({
    AGENT_TOKEN,
    EDGE_URL: edgeUrl,
    DATA_DIR: opts.dataDir ?? (await tempDir()),
    ADMIN_PORT: "0",
    WA_TRANSPORT: "simulator",
    LOG_LEVEL: "silent",
  });
  return startAgent({ config: opts.config ?? testConfig(), env });
}

export interface SimMessage {
  session: string;
  chatJid?: string;
  senderJid?: string;
  senderName?: string;
  text: string;
  id?: string;
  timestamp?: number;
  editOf?: string;
  quotedId?: string;
  /** base64 data: the message is an image and `text` its caption. */
  image?: { data: string; mimetype: string; fileName?: string };
}

export async function simulate(adminUrl: string, messages: SimMessage[]) {
  const res = await fetch(`${adminUrl}/simulate/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      messages: messages.map((m) => ({ chatJid: LAWLEY, senderJid: "27821234567@s.whatsapp.net", senderName: "Thabo", ...m })),
    }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

export async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 500)}`);
}

export interface AgentProcessOptions {
  edgeUrl: string;
  dataDir: string;
  config?: AgentConfig;
  /** Extra environment (e.g. SIMULATOR_SEND_DELAY_MS). */
  env?: Record<string, string>;
  /** Extra node flags (e.g. --import of a test fixture). */
  nodeArgs?: string[];
}

/** The agent as a child process, running the production entry point; not waited for. */
export async function launchAgent(opts: AgentProcessOptions) {
  const port = await freePort();
  const configFile = path.join(await tempDir("wam-agent-config-"), "agent.yaml");
  await writeFile(configFile, stringify(opts.config ?? testConfig()));
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.resolve(import.meta.dirname, "../src/main.ts")], {
    env: {
      ...process.env,
      AGENT_TOKEN,
      EDGE_URL: opts.edgeUrl,
      DATA_DIR: opts.dataDir,
      ADMIN_PORT: String(port),
      WA_TRANSPORT: "simulator",
      AGENT_CONFIG: configFile,
      LOG_LEVEL: "warn",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, adminUrl: `http://127.0.0.1:${port}`, exited, output: () => output };
}

/** The agent as a child process, running the production entry point, once its admin server answers. */
export async function spawnAgent(opts: AgentProcessOptions) {
  const agent = await launchAgent(opts);
  await eventually(
    () => fetch(`${agent.adminUrl}/health`).then((r) => r.ok, () => false),
    (ok) => ok || agent.child.exitCode !== null,
    20_000,
  );
  if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.output()}`);
  return agent;
}
