// Benchmark 3: a simulated WhatsApp message entering the agent until the drop is visible in the dashboard's
// feed — agent in-process on the simulator transport, the Worker served over HTTP, Postgres behind the proxy.
import { mkdir } from "node:fs/promises";
import { performance } from "node:perf_hooks";
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
  /** Pause between polls of the feed and of Postgres. */
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
 * Posts one drop and polls, side by side, the feed's first item (what the claim is about) and Postgres itself
 * over TCP (where delivery ends), so the feed's own request time can be told apart from the agent's delivery.
 * Drop numbers rise from run to run so a drop posted in the same second as the previous one still sorts first
 * (the feed orders by time, then drop number).
 */
async function visibleLatency(agent: Agent, edgeUrl: string, sql: pg.Client, drop: string, pollMs: number) {
  let polls = 0;
  const t0 = performance.now();
  await simulate(agent.adminUrl, [drop]);
  const stored = performance.now() - t0;
  const inPostgres = async () => (await sql.query("SELECT 1 FROM drops WHERE drop_number = $1", [drop])).rowCount === 1;
  const inFeed = async () => (polls++, (await newestDrop(edgeUrl)) === drop);
  const since = () => performance.now() - t0;
  const [postgres, feed] = await Promise.all([
    waitFor(`${drop} in Postgres`, inPostgres, 10_000, pollMs).then(since),
    waitFor(`${drop} in the feed`, inFeed, 10_000, pollMs).then(since),
  ]);
  return { stored, postgres, feed, polls };
}

async function measureLatency(agent: Agent, edgeUrl: string, sql: pg.Client, opts: AgentBenchOptions): Promise<void> {
  // Unmeasured first pass: connections, the agent's prepared statements, JIT.
  await visibleLatency(agent, edgeUrl, sql, "DR90000000", opts.pollMs);
  const runs: Awaited<ReturnType<typeof visibleLatency>>[] = [];
  for (let i = 1; i <= opts.latencyRuns; i++) {
    runs.push(await visibleLatency(agent, edgeUrl, sql, `DR9${String(i).padStart(7, "0")}`, opts.pollMs));
  }
  const onePoll = await timed(() => newestDrop(edgeUrl));

  table(LATENCY_HEADERS, [
    latencyRow("message stored by the agent (POST /simulate/messages)", runs.map((r) => r.stored), "SQLite message + outbox"),
    latencyRow("message → drop row in Postgres", runs.map((r) => r.postgres), `SQL poll every ~${opts.pollMs} ms`),
    latencyRow("message → first item of GET /v1/drops?limit=1", runs.map((r) => r.feed), `feed poll every ~${opts.pollMs} ms + request`),
  ]);
  const underSecond = runs.filter((r) => r.feed < 1000).length;
  const avgPolls = runs.reduce((a, r) => a + r.polls, 0) / runs.length;
  line();
  line(`visible in the feed within 1 s: ${underSecond} of ${runs.length} runs`);
  line(
    `each feed poll is a full HTTP request with its own connection (one took ${ms(onePoll.ms)} ms); ` +
      `${avgPolls.toFixed(1)} polls per run on average`,
  );
}

/** Many messages queued at once, drained by the outbox in batches of up to 500. */
async function measureThroughput(agent: Agent, edge: EdgeServer, sql: pg.Client, messages: number): Promise<void> {
  const drops = Array.from({ length: messages }, (_, i) => `DR91${String(i).padStart(6, "0")}`);
  const arrived = async () => {
    const { rows } = await sql.query<{ n: string }>(
      "SELECT count(*) AS n FROM drops WHERE drop_number >= 'DR91' AND drop_number < 'DR92'",
    );
    return Number(rows[0]!.n) === messages;
  };
  const postsBefore = edge.counts.get("POST /v1/agent/drops") ?? 0;
  const t0 = performance.now();
  for (let i = 0; i < drops.length; i += SIM_MAX) await simulate(agent.adminUrl, drops.slice(i, i + SIM_MAX));
  const stored = performance.now() - t0;
  await waitFor(`${messages} drops in Postgres`, arrived, 120_000, 25);
  const all = performance.now() - t0;
  const deliveries = (edge.counts.get("POST /v1/agent/drops") ?? 0) - postsBefore;

  line(
    `throughput: ${int(messages)} messages posted in ${Math.ceil(messages / SIM_MAX)} requests of ≤${SIM_MAX} ` +
      `(stored by the agent in ${ms(stored)} ms); all in Postgres after ${ms(all)} ms → ` +
      `${int(messages / (all / 1000))} messages/s end to end, in ${deliveries} POST /v1/agent/drops`,
  );
}

export async function benchAgent(
  edge: EdgeServer,
  sql: pg.Client,
  dataDir: string,
  cleanup: Cleanup,
  opts: AgentBenchOptions,
): Promise<void> {
  heading("3. Agent → edge: simulated WhatsApp message until visible in GET /v1/drops (HTTP, same Postgres)");
  line("agent (simulator transport, agent.example.yaml delivery settings), edge server and pollers share this one Node process");
  const agent = await startBenchAgent(edge.url, dataDir, cleanup);
  // Delivery holds back until the edge has our projects; measure from there.
  await waitFor("the agent's project push", () => (edge.counts.get("PUT /v1/agent/projects") ?? 0) > 0, 20_000);
  await measureLatency(agent, edge.url, sql, opts);
  await measureThroughput(agent, edge, sql, opts.messages);
}
