// Benchmark: the agent's own cost per message, in-process — Baileys-shaped `messages.upsert` batches through the
// same wiring and handler live sessions use (whatsapp/wire.ts → ingest.ts), into a real SQLite store, one
// transaction per upsert. No network: this is what the agent can take before anything else is in the way.
import { execFile } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { WAMessage } from "baileys";
import pino from "pino";
import { AgentConfig } from "../../agent/src/config.ts";
import { monitoredGroups } from "../../agent/src/detect/projects.ts";
import { createMetrics } from "../../agent/src/metrics.ts";
import { closeStore, openStore } from "../../agent/src/store/db.ts";
import { createIngest } from "../../agent/src/whatsapp/ingest.ts";
import type { MessageEventSource } from "../../agent/src/whatsapp/session.ts";
import { wireMessageEvents } from "../../agent/src/whatsapp/wire.ts";
import { AGENT_NODE_FLAGS } from "../agent-process.ts";
import { PROJECTS } from "./rig.ts";
import { groupTraffic } from "./wa-traffic.ts";

const run = promisify(execFile);

export interface IngestBenchResult {
  messages: number;
  batch: number;
  ms: number;
  perSecond: number;
  /** CPU time of this process (user + system) per message: less at the mercy of other load than the clock. */
  cpuMicrosPerMessage: number;
  stored: number;
  queued: number;
}

/** Feeds `messages` Baileys-shaped messages in upserts of `batch` and returns how fast they were stored. */
export async function measureAgentIngest(messages: number, batch: number): Promise<IngestBenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), "wam-agent-ingest-"));
  const db = openStore(dir);
  try {
    const config = AgentConfig.parse({ sessions: [{ name: "primary", role: "capture" }], projects: PROJECTS });
    const groups = monitoredGroups(config);
    const ingest = createIngest({
      db,
      log: pino({ level: "silent" }),
      metrics: createMetrics(),
      groups: () => groups,
      ownUsers: () => new Set(["27600000001"]),
      captures: () => true,
      // A live session asks Baileys' LID map; every sender here comes with its phone number beside.
      resolveLid: async () => null,
      historyDays: () => config.historyDays,
      onQueued: () => {}, // delivery is not part of this measurement
    });
    const ev = new EventEmitter();
    const wiring = wireMessageEvents(ev as unknown as MessageEventSource, "primary", ingest, pino({ level: "silent" }), () => {});
    const traffic = groupTraffic({ groups: PROJECTS.map((p) => p.groupJid) });
    const upsert = async (messages: WAMessage[]) => {
      ev.emit("messages.upsert", { messages, type: "notify" });
      await wiring.settled();
    };
    // Warm-up: JIT, statement caches.
    for (let i = 0; i < 2_000; i += batch) await upsert(traffic.next(batch));
    const before = counts(db);
    // Only the agent's part is timed: from the upsert to its messages being stored, not building the messages.
    let ms = 0;
    let cpuMicros = 0;
    for (let done = 0; done < messages; done += batch) {
      const next = traffic.next(Math.min(batch, messages - done));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await upsert(next);
      ms += performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      cpuMicros += cpu.user + cpu.system;
    }
    const after = counts(db);
    return {
      messages,
      batch,
      ms,
      perSecond: messages / (ms / 1000),
      cpuMicrosPerMessage: cpuMicros / messages,
      stored: after.messages - before.messages,
      queued: after.outbox - before.outbox,
    };
  } finally {
    closeStore(db);
    await rm(dir, { recursive: true, force: true });
  }
}

function counts(db: ReturnType<typeof openStore>) {
  const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return { messages: one("SELECT count(*) AS n FROM messages"), outbox: one("SELECT count(*) AS n FROM outbox") };
}

/** Runs the benchmark in a child process of its own, with the agent's Node flags: a fresh heap, nothing of the
 * bench's other parts beside it. */
export async function measureAgentIngestInChild(messages: number, batch: number): Promise<IngestBenchResult> {
  const args = [...AGENT_NODE_FLAGS, fileURLToPath(import.meta.url), String(messages), String(batch), "--json"];
  const { stdout } = await run(process.execPath, args, {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as IngestBenchResult;
}

// `node tools/bench/agent-ingest.ts [messages] [batch] [--json]`: this benchmark alone (e.g. under --cpu-prof).
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await measureAgentIngest(Number(process.argv[2] ?? 100_000), Number(process.argv[3] ?? 100));
  if (process.argv.includes("--json")) console.log(JSON.stringify(r));
  else {
    console.log(
      `${r.messages} messages in upserts of ${r.batch}: ${r.ms.toFixed(0)} ms → ${Math.round(r.perSecond)} messages/s, ` +
        `CPU ${r.cpuMicrosPerMessage.toFixed(1)} µs per message; stored ${r.stored}, drops queued ${r.queued}`,
    );
  }
}
