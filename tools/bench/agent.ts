// Benchmark 3: a simulated WhatsApp message entering the agent until the drop is visible in the dashboard's
// feed — agent in-process on the simulator transport, the Worker served over HTTP, Postgres behind the proxy.
// Benchmark 4: the agent's own costs — messages stored per second in-process (agent-ingest.ts) and its memory
// with three sessions (agent-memory.ts).
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { startAgent, type Agent } from "../../agent/src/agent.ts";
import { AgentConfig } from "../../agent/src/config.ts";
import { AgentEnv } from "../../agent/src/env.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, type Cleanup, type EdgeServer } from "./rig.ts";
import { measureAgentIngestInChild } from "./agent-ingest.ts";
import { measureAgentMemory } from "./agent-memory.ts";
import { figure } from "./figures.ts";
import { heading, int, LATENCY_HEADERS, latencyRow, line, ms, sleep, summarize, table, timed } from "./measure.ts";

const LAWLEY = PROJECTS[0]!.groupJid;
const SIM_MAX = 1000; // largest batch POST /simulate/messages takes
const OWN_COST_MESSAGES = 100_000;

export interface AgentBenchOptions {
  latencyRuns: number;
  messages: number;
  /** A new feed poll starts this often (overlapping the ones in flight)... */
  pollMs: number;
  /** ...while fewer than this many are in flight. */
  maxFeedPolls: number;
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
 * Polls the feed with overlapping requests, a new one every `everyMs` with at most `maxInFlight` in flight, until a
 * response's first item is `drop`; resolves with the time that response arrived. A request takes as long as a feed
 * request takes (its own connection), so one poll after another would add up to a whole request to the figure;
 * overlapping them, a poll starts within `everyMs` of the drop's commit (or as soon as one of `maxInFlight` frees
 * up) and the figure is that request's own time on top of the delivery. The cap keeps the bench's own load small.
 */
async function feedSees(edgeUrl: string, drop: string, since: number, everyMs: number, maxInFlight: number) {
  let seenAt: number | undefined;
  let failure: unknown;
  let polls = 0;
  const inFlight = new Set<Promise<void>>();
  const deadline = since + 10_000;
  while (seenAt === undefined && failure === undefined) {
    if (performance.now() > deadline) throw new Error(`timed out after 10000 ms waiting for ${drop} in the feed`);
    if (inFlight.size < maxInFlight) {
      polls++;
      const p: Promise<void> = newestDrop(edgeUrl).then(
        (first) => {
          if (first === drop) seenAt ??= performance.now();
        },
        (err) => void (failure ??= err),
      );
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    // Either the next poll is due, or a slot frees up.
    await Promise.race([sleep(everyMs), ...inFlight]);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return { ms: seenAt! - since, polls, spacingMs: (seenAt! - since) / polls };
}

/**
 * Posts one drop and watches, side by side, Postgres itself over TCP (where delivery ends: a cheap query every
 * 2 ms) and the feed's first item (what the figure is about), so the agent's delivery can be told apart from the
 * feed request. Drop numbers rise from run to run so a drop posted in the same second as the previous one still
 * sorts first (the feed orders by time, then drop number).
 */
async function visibleLatency(adminUrl: string, edgeUrl: string, sql: pg.Client, drop: string, opts: AgentBenchOptions) {
  const t0 = performance.now();
  const posted = simulate(adminUrl, [drop]).then(() => performance.now() - t0);
  const inPostgres = async () => (await sql.query("SELECT 1 FROM drops WHERE drop_number = $1", [drop])).rowCount === 1;
  const [stored, postgres, feed] = await Promise.all([
    posted,
    waitFor(`${drop} in Postgres`, inPostgres, 10_000, 2).then(() => performance.now() - t0),
    feedSees(edgeUrl, drop, t0, opts.pollMs, opts.maxFeedPolls),
  ]);
  return { stored, postgres, feed: feed.ms, polls: feed.polls, spacing: feed.spacingMs };
}

/**
 * Post → visible, `latencyRuns` times, through the agent at `adminUrl` and the edge at `edgeUrl`. Drop numbers
 * start at `DR9<first>`, so a second run into the same database still posts drops that sort first.
 */
export async function measureLatency(adminUrl: string, edgeUrl: string, sql: pg.Client, opts: AgentBenchOptions, where = "agent and Worker in-process", first = 0): Promise<void> {
  const drop = (i: number) => `DR9${String(first + i).padStart(7, "0")}`;
  // Unmeasured first pass: connections, the agent's prepared statements, JIT.
  await visibleLatency(adminUrl, edgeUrl, sql, drop(0), opts);
  const runs: Awaited<ReturnType<typeof visibleLatency>>[] = [];
  for (let i = 1; i <= opts.latencyRuns; i++) {
    runs.push(await visibleLatency(adminUrl, edgeUrl, sql, drop(i), opts));
  }
  const onePoll = await timed(() => newestDrop(edgeUrl));

  table(LATENCY_HEADERS, [
    latencyRow("message stored by the agent (POST /simulate/messages)", runs.map((r) => r.stored), "SQLite message + outbox"),
    latencyRow("message → drop row in Postgres", runs.map((r) => r.postgres), "SQL poll every 2 ms"),
    latencyRow(
      "message → first item of GET /v1/drops?limit=1",
      runs.map((r) => r.feed),
      `a feed poll starts every ${opts.pollMs} ms, ≤${opts.maxFeedPolls} in flight`,
    ),
  ]);
  const avg = (f: (r: (typeof runs)[number]) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  line();
  line(
    `each feed poll is a full HTTP request with its own connection (one alone took ${ms(onePoll.ms)} ms); ` +
      `${avg((r) => r.polls).toFixed(1)} polls per run, one started every ${ms(avg((r) => r.spacing))} ms on average`,
  );
  figure(
    `simulated post → visible in GET /v1/drops, p95 (${where})`,
    summarize(runs.map((r) => r.feed)).p95,
    "ms",
    "<= 200",
    `${runs.length} runs; overlapping feed polls, one every ≥${opts.pollMs} ms`,
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
  await measureLatency(agent.adminUrl, edge.url, sql, opts);
  await measureThroughput(agent, edge, sql, opts.messages);
  await measureOwnCosts(edge, path.join(dataDir, "..", "agent-memory"));
}

/** Messages stored and detected per second in-process, and memory with three sessions. */
async function measureOwnCosts(edge: EdgeServer, memoryDir: string): Promise<void> {
  heading("4. The agent's own costs: messages stored and detected in-process; memory with three sessions");
  const sizes = [1, 100, 1000];
  const runs = [];
  for (const batch of sizes) runs.push(await measureAgentIngestInChild(OWN_COST_MESSAGES, batch));
  table(
    ["messages.upsert of", "messages", "ms", "messages/s", "CPU µs/message", "stored", "drops queued"],
    runs.map((r) => [String(r.batch), int(r.messages), ms(r.ms), int(r.perSecond), r.cpuMicrosPerMessage.toFixed(1), int(r.stored), int(r.queued)]),
  );
  line("Baileys-shaped traffic (wa-traffic.ts): decoded proto content, LID participants with their phone beside, 5% name a drop;");
  line("one SQLite transaction per upsert through whatsapp/wire.ts → ingest.ts, in a child process of its own.");
  const figureRun = runs.find((r) => r.batch === 100)!;
  figure(
    "agent messages/s",
    figureRun.perSecond,
    "msg/s",
    ">= 50000",
    `${int(figureRun.messages)} messages in upserts of 100, stored and detected; ${figureRun.cpuMicrosPerMessage.toFixed(1)} µs CPU each`,
  );

  await mkdir(memoryDir, { recursive: true });
  const mem = await measureAgentMemory(edge.url, memoryDir, OWN_COST_MESSAGES);
  line();
  line(
    `agent child (agent/src/main.ts, simulator, 3 sessions): ${int(mem.messages)} messages × 3 sessions = ${int(mem.rows)} rows ` +
      `posted in ${mem.postSeconds.toFixed(1)} s, outbox drained`,
  );
  line(
    `RSS: at start (after GC) ${mem.rssAtStart.toFixed(1)} MB; after the messages ${mem.rssBeforeGc.toFixed(1)} MB, ` +
      `after GC ${mem.rss.toFixed(1)} MB (V8 heap ${mem.heapUsed.toFixed(1)}, external ${mem.external.toFixed(1)}); peak ${mem.peakRss.toFixed(1)} MB`,
  );
  figure(
    "agent RSS with 3 sessions",
    mem.rss,
    "MB",
    "<= 120",
    `after ${int(mem.messages)} messages seen by each session, GC settled; peak ${mem.peakRss.toFixed(0)} MB`,
  );
}
