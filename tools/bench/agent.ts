// Benchmark 3: a simulated WhatsApp message entering the agent until the drop is visible in the dashboard's
// feed — agent in-process on the simulator transport, the Worker served over HTTP, Postgres behind the proxy.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { startAgent, type Agent } from "../../agent/src/agent.ts";
import { AgentConfig } from "../../agent/src/config.ts";
import { AgentEnv } from "../../agent/src/env.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, type Cleanup, type EdgeServer } from "./rig.ts";
import { heading, int, LATENCY_HEADERS, latencyRow, line, ms, sleep, table, timed } from "./measure.ts";

const LAWLEY = PROJECTS[0]!.groupJid;
const SIM_MAX = 1000; // largest batch POST /simulate/messages takes

export interface AgentBenchOptions {
  latencyRuns: number;
  messages: number;
  /** Pause between feed polls. */
  pollMs: number;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The agent as production configures it (agent.example.yaml defaults), on simulated WhatsApp. */
async function startBenchAgent(edgeUrl: string, dataDir: string, cleanup: Cleanup): Promise<Agent> {
  await mkdir(dataDir, { recursive: true });
  const config = AgentConfig.parse({
    sessions: [
      { name: "primary", role: "capture" },
      { name: "backup", role: "capture" },
      { name: "sender", role: "sender" },
    ],
    projects: PROJECTS,
  });
  const env = AgentEnv.parse({
    AGENT_TOKEN,
    EDGE_URL: edgeUrl,
    DATA_DIR: dataDir,
    ADMIN_PORT: "0",
    WA_TRANSPORT: "simulator",
    LOG_LEVEL: "silent",
  });
  const agent = await startAgent({ config, env });
  cleanup.add("agent", () => agent.stop());
  return agent;
}

async function simulate(adminUrl: string, drops: string[]): Promise<void> {
  const res = await fetch(`${adminUrl}/simulate/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      messages: drops.map((d) => ({
        session: "primary",
        chatJid: LAWLEY,
        senderJid: "27821234567@s.whatsapp.net",
        senderName: "Thabo",
        text: `${d} done, all photos posted`,
      })),
    }),
  });
  if (!res.ok) throw new Error(`POST /simulate/messages answered ${res.status}: ${await res.text()}`);
}

async function newestDrop(edgeUrl: string): Promise<string | undefined> {
  const res = await fetch(`${edgeUrl}/v1/drops?limit=1`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } });
  if (!res.ok) throw new Error(`GET /v1/drops answered ${res.status}`);
  const body = (await res.json()) as { items: { dropNumber: string }[] };
  return body.items[0]?.dropNumber;
}

/**
 * Post one drop, poll the feed's first item until it is that drop. Drop numbers rise from run to run so a
 * drop posted within the same second as the previous one still sorts first (the feed orders by time, then
 * drop number).
 */
async function visibleLatency(agent: Agent, edgeUrl: string, drop: string, pollMs: number): Promise<{ ms: number; polls: number }> {
  let polls = 0;
  const { ms } = await timed(async () => {
    await simulate(agent.adminUrl, [drop]);
    await waitFor(`${drop} in the feed`, async () => (polls++, (await newestDrop(edgeUrl)) === drop), 10_000, pollMs);
  });
  return { ms, polls };
}

async function countDrops(sql: pg.Client, from: string, to: string): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(
    "SELECT count(*) AS n FROM drops WHERE drop_number >= $1 AND drop_number < $2",
    [from, to],
  );
  return Number(rows[0]!.n);
}

export async function benchAgent(
  edge: EdgeServer,
  sql: pg.Client,
  dataDir: string,
  cleanup: Cleanup,
  opts: AgentBenchOptions,
): Promise<void> {
  heading("3. Agent → edge: simulated WhatsApp message until visible in GET /v1/drops (HTTP, same Postgres)");
  const agent = await startBenchAgent(edge.url, dataDir, cleanup);
  // Delivery holds back until the edge has our projects; measure from there.
  await waitFor("the agent's project push", () => (edge.counts.get("PUT /v1/agent/projects") ?? 0) > 0, 20_000);

  // Unmeasured first pass: connections, the agent's prepared statements, JIT.
  await visibleLatency(agent, edge.url, "DR90000000", opts.pollMs);
  const latencies: number[] = [];
  const polls: number[] = [];
  for (let i = 1; i <= opts.latencyRuns; i++) {
    const r = await visibleLatency(agent, edge.url, `DR9${String(i).padStart(7, "0")}`, opts.pollMs);
    latencies.push(r.ms);
    polls.push(r.polls);
  }
  const feedPoll = await timed(() => newestDrop(edge.url));

  // Throughput: many messages queued at once, drained by the outbox in batches of up to 500.
  const drops = Array.from({ length: opts.messages }, (_, i) => `DR91${String(i).padStart(6, "0")}`);
  const postsBefore = edge.counts.get("POST /v1/agent/drops") ?? 0;
  let postedMs = 0;
  const all = await timed(async () => {
    const posted = await timed(async () => {
      for (let i = 0; i < drops.length; i += SIM_MAX) await simulate(agent.adminUrl, drops.slice(i, i + SIM_MAX));
    });
    postedMs = posted.ms;
    await waitFor(`${opts.messages} drops in Postgres`, async () => (await countDrops(sql, "DR91", "DR92")) === opts.messages, 120_000, 25);
  });
  const deliveries = (edge.counts.get("POST /v1/agent/drops") ?? 0) - postsBefore;

  table(LATENCY_HEADERS, [
    latencyRow("message → first item of GET /v1/drops?limit=1", latencies, `polled every ~${opts.pollMs} ms + request time`),
  ]);
  const avgPolls = polls.reduce((a, b) => a + b, 0) / polls.length;
  line();
  line(`each feed poll is a full HTTP request (one took ${ms(feedPoll.ms)} ms); ${avgPolls.toFixed(1)} polls per run on average`);
  line(
    `throughput: ${int(opts.messages)} messages posted in ${Math.ceil(opts.messages / SIM_MAX)} requests of ≤${SIM_MAX} ` +
      `(stored by the agent in ${ms(postedMs)} ms); all in Postgres after ${ms(all.ms)} ms → ` +
      `${int(opts.messages / (all.ms / 1000))} messages/s end to end, in ${deliveries} POST /v1/agent/drops`,
  );
}
