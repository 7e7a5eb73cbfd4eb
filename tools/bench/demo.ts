// Benchmark 6: the same requests through the stack `npm run demo` runs — the Worker in workerd under
// `wrangler dev`, the Neon proxy, the agent as its own process on the simulator transport — against the
// 1,000,000-drop database of section 2. What differs from the in-process sections is workerd itself, its HTTP
// front and the agent's process boundary; the SQL and the connection per request are the same.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type pg from "pg";
import { freePort } from "../ports.ts";
import { startStack, type Stack } from "../stack.ts";
import { measureLatency, type AgentBenchOptions } from "./agent.ts";
import { readFigures, measureReads, type ReadOptions } from "./feed.ts";
import { figure } from "./figures.ts";
import { measureHealth } from "./floor.ts";
import { benchIngest } from "./ingest.ts";
import { heading, LATENCY_HEADERS, latencyRow, line, ms, summarize, table } from "./measure.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, httpClient, TIMEZONE, type Cleanup } from "./rig.ts";

const WHERE = "npm run demo stack: wrangler dev";

/** The variables startStack reads from the environment, set for the bench's stack and restored after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function startDemoStack(databaseUrl: string, cleanup: Cleanup): Promise<Stack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "wam-bench-demo-"));
  cleanup.add("demo stack dir", () => rm(dataDir, { recursive: true, force: true }));
  // The parts' logs are kept quiet, but the last lines are shown if the stack does not come up.
  const recent: string[] = [];
  const logger = (name: string) => (l: string) => {
    recent.push(`[${name}] ${l}`);
    if (recent.length > 40) recent.shift();
  };
  const [proxyPort, edgePort, adminPort] = [await freePort(), await freePort(), await freePort()];
  try {
    const stack = await withEnv(
      // Probe on every /health request: the figure is the request with its database round trip, not a cached answer.
      { AGENT_TOKEN, DASHBOARD_TOKEN, TIMEZONE, HEALTH_PROBE_SECONDS: "0" },
      () => startStack({ databaseUrl, dataDir, proxyPort, edgePort, adminPort, agent: "simulator", logger }),
    );
    cleanup.add("demo stack", () => stack.stop());
    return stack;
  } catch (err) {
    process.stderr.write(recent.join("\n") + "\n");
    throw err;
  }
}

export async function benchDemoStack(
  databaseUrl: string,
  sql: pg.Client,
  cleanup: Cleanup,
  opts: { reads: ReadOptions; healthRuns: number; ingest: { batches: number; repeats: number }; agent: AgentBenchOptions },
): Promise<void> {
  heading(`6. Through the ${WHERE} (workerd), the agent as its own process; the ${opts.reads.drops.toLocaleString("en-US")}-drop database`);
  const stack = await startDemoStack(databaseUrl, cleanup);
  const call = httpClient(stack.edgeUrl);
  line(`edge ${stack.edgeUrl} (wrangler dev), agent ${stack.agentUrl} (node agent/src/main.ts, simulator)`);

  const health = await measureHealth(call, opts.healthRuns);
  const reads = await measureReads(call, opts.reads);
  table(LATENCY_HEADERS, [latencyRow("GET /health (probes Postgres on every request)", health), ...reads.rows]);
  line();
  figure(`GET /health p50 (${WHERE})`, summarize(health).median, "ms", "<= 25",
    `${health.length} requests, each probing Postgres (HEALTH_PROBE_SECONDS=0); p95 ${ms(summarize(health).p95)} ms`);
  readFigures(reads, opts.reads.drops, WHERE);

  // Drop numbers past the in-process runs' (DR10000000 + 5,000,000 on), so every batch is really new.
  await benchIngest(call, { ...opts.ingest, where: WHERE, offset: 5_000_000 }, "6b.");

  heading(`6c. Simulated post → visible in GET /v1/drops, through the ${WHERE} and the agent process`);
  await measureLatency(stack.agentUrl!, stack.edgeUrl, sql, opts.agent, `${WHERE}, agent process`, 5_000_000);
}
