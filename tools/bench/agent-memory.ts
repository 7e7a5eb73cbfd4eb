// Benchmark: the agent's memory with three sessions after a day's worth of busy groups and more — the real entry
// point (agent/src/main.ts) in a child process, simulator transport, 100,000 messages each seen by all three
// numbers (as in a group where all of them are members), drops delivered to the bench's edge. Resident set size
// after garbage collection has settled, read by a probe loaded beside the agent (memory-probe.ts).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { startAgentProcess, type AgentProcess } from "../agent-process.ts";
import { freePort } from "../ports.ts";
import { AGENT_TOKEN, PROJECTS } from "./rig.ts";
import { sleep } from "./measure.ts";

const PROBE = fileURLToPath(new URL("./memory-probe.ts", import.meta.url));
const SESSIONS = ["primary", "backup", "sender"];
const PER_REQUEST = 333; // × 3 sessions: just under POST /simulate/messages' 1,000 entries
const CHATTER = ["Morning team, starting at Lawley ext 3 today", "ok", "👍", "Who has the splicing kit?", "Client not home, back after lunch"];

export interface MemoryResult {
  messages: number;
  rows: number;
  /** After GC settled, MB. */
  rss: number;
  heapUsed: number;
  external: number;
  /** Before any message, after GC, MB. */
  rssAtStart: number;
  /** As the agent held it once the outbox had drained, before the probe's collection, MB. */
  rssBeforeGc: number;
  /** The most the process held at any time (VmHWM), MB. */
  peakRss: number;
  postSeconds: number;
}

// Decimal megabytes: the issue's "120 MB" read the strict way.
export const MB = 1e6;

/** The agent's process.memoryUsage() after GC settled, as the probe (memory-probe.ts) loaded beside it reports it. */
export async function memoryOf(pid: number, file: string) {
  await writeFile(file, "");
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const text = await readFile(file, "utf8");
    if (text) return JSON.parse(text) as NodeJS.MemoryUsage;
  }
  throw new Error("the agent's memory probe did not answer");
}

/** VmRSS (now) or VmHWM (peak) of a process, MB. */
export async function residentOf(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  return kb ? (Number(kb) * 1024) / MB : NaN;
}

/** Starts VmHWM over from the current RSS (Linux clear_refs 5), so the next read is the peak of what follows. */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, "5");
}

/** Resident MB of the process's brk heap, glibc malloc's main arena: where freed C memory stays if it cannot be trimmed. */
export async function mallocHeapOf(pid: number): Promise<number> {
  const smaps = await readFile(`/proc/${pid}/smaps`, "utf8").catch(() => "");
  const kb = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(smaps)?.[1];
  return kb ? (Number(kb) * 1024) / MB : 0;
}

export interface ProbedAgentOptions {
  edgeUrl: string;
  /** Its store goes in `data` under this. */
  dir: string;
  configFile: string;
  /** Where the probe writes on SIGUSR2 (memoryOf). */
  memoryFile: string;
  /** The agent's first 20 log lines, to explain a failed run. */
  warnings: string[];
  /** More environment, or other values (LOG_LEVEL is warn unless given). */
  env?: Record<string, string>;
}

/** The real entry point (agent/src/main.ts) in a child process on the simulator transport, the memory probe beside it. */
export async function startProbedAgent(opts: ProbedAgentOptions): Promise<AgentProcess> {
  return startAgentProcess({
    adminPort: await freePort(),
    env: {
      AGENT_TOKEN,
      EDGE_URL: opts.edgeUrl,
      DATA_DIR: path.join(opts.dir, "data"),
      AGENT_CONFIG: opts.configFile,
      WA_TRANSPORT: "simulator",
      LOG_LEVEL: "warn",
      NODE_OPTIONS: `--expose-gc --import=${PROBE}`,
      BENCH_MEMORY_FILE: opts.memoryFile,
      ...opts.env,
    },
    log: (l) => void (opts.warnings.length < 20 && opts.warnings.push(l)),
  });
}

async function post(adminUrl: string, from: number, count: number) {
  const messages = [];
  for (let i = from; i < from + count; i++) {
    // One in twenty names a drop (DR93…), the rest is chatter; every number sees every message under its id.
    const text = i % 20 === 19 ? `DR93${String(i).padStart(6, "0")} done, all photos posted` : CHATTER[i % CHATTER.length]!;
    const id = `3EB0MEM${i.toString(16).toUpperCase().padStart(10, "0")}`;
    const senderJid = `2782${String(1_000_000 + (i % 200)).padStart(7, "0")}@s.whatsapp.net`;
    for (const session of SESSIONS) {
      messages.push({ session, chatJid: PROJECTS[i % PROJECTS.length]!.groupJid, senderJid, senderName: `Installer ${i % 200}`, text, id });
    }
  }
  const res = await fetch(`${adminUrl}/simulate/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages }),
  });
  if (!res.ok) throw new Error(`POST /simulate/messages answered ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
}

export async function measureAgentMemory(edgeUrl: string, dir: string, messages: number): Promise<MemoryResult> {
  const configFile = path.join(dir, "agent.yaml");
  const memoryFile = path.join(dir, "memory.json");
  await writeFile(
    configFile,
    stringify({ sessions: SESSIONS.map((name) => ({ name, role: name === "sender" ? "sender" : "capture" })), projects: PROJECTS }),
  );
  const warnings: string[] = [];
  const agent = await startProbedAgent({ edgeUrl, dir, configFile, memoryFile, warnings });
  try {
    const start = await memoryOf(agent.pid, memoryFile);
    const t0 = performance.now();
    for (let i = 0; i < messages; i += PER_REQUEST) await post(agent.adminUrl, i, Math.min(PER_REQUEST, messages - i));
    const postSeconds = (performance.now() - t0) / 1000;
    // Until the outbox has drained: delivery's memory counts too.
    for (;;) {
      const health = (await (await fetch(`${agent.adminUrl}/health`)).json()) as { outbox: { pending: number } };
      if (health.outbox.pending === 0) break;
      await sleep(200);
    }
    const rssBeforeGc = await residentOf(agent.pid, "VmRSS");
    const end = await memoryOf(agent.pid, memoryFile);
    return {
      messages,
      rows: messages * SESSIONS.length,
      rss: end.rss / MB,
      heapUsed: end.heapUsed / MB,
      external: end.external / MB,
      rssAtStart: start.rss / MB,
      rssBeforeGc,
      peakRss: await residentOf(agent.pid, "VmHWM"),
      postSeconds,
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}${warnings.length ? `\nagent said:\n${warnings.join("\n")}` : ""}`);
  } finally {
    await agent.stop();
  }
}
