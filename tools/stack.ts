// The local stack on real parts: Postgres (DATABASE_URL or embedded), migrations, the Neon WebSocket proxy,
// and the edge Worker under wrangler dev with its cron fired once a minute. Used by `npm start` and the demo.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { existsSync } from "node:fs";
import { Settings } from "../edge-api/src/env.ts";
import { startAgentProcess, type AgentProcess } from "./agent-process.ts";
import { fireCron, ROOT, startEdgeDev, type EdgeDev } from "./edge-dev.ts";
import { logger as consoleLogger, type Log } from "./log.ts";
import { migrate } from "./migrate.ts";
import { startNeonProxy, type NeonProxy } from "./neon-proxy.ts";
import { pgAuthFromEnv, serverAuthMethod, type ServerAuth } from "./pg-auth.ts";
import { startPostgres, type PostgresHandle } from "./postgres.ts";
import { loadTokens, type Tokens } from "./tokens.ts";

export interface StackOptions {
  dataDir?: string;
  pgPort?: number;
  proxyPort?: number;
  edgePort?: number;
  databaseUrl?: string | undefined;
  /** Start the agent too: `baileys` (live WhatsApp) or `simulator`; false leaves it out. */
  agent?: "baileys" | "simulator" | false;
  adminPort?: number;
  /** Makes the prefixed log of each part; tests pass a quiet one. */
  logger?: (name: string) => Log;
}

export interface Stack {
  edgeUrl: string;
  databaseUrl: string;
  agentUrl: string | undefined;
  tokens: Tokens;
  /** Resolves when a part dies on its own; the launcher then shuts the rest down. */
  failed: Promise<string>;
  stop(): Promise<void>;
}

const envInt = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${v} is not a TCP port`);
  return n;
};

/** The Worker's settings (edge-api/src/env.ts) that are set in the environment, for local runs; nothing else. */
export function settingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.keys(Settings.shape).flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
}

/** Neon endpoints speak WebSocket themselves; any other Postgres is reached through the local proxy. */
export function needsProxy(databaseUrl: string): { host: string; port: number } | null {
  const u = new URL(databaseUrl);
  if (u.hostname.endsWith(".neon.tech")) return null;
  return { host: u.hostname, port: Number(u.port || 5432) };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const logger = opts.logger ?? consoleLogger;
  const dataDir = path.resolve(opts.dataDir ?? path.join(ROOT, ".data"));
  await mkdir(dataDir, { recursive: true });
  const say = logger("start");
  // Stopped one at a time in the reverse order of start — agent, cron, edge, proxy, Postgres — so each part
  // still has what it depends on while it finishes: the agent its last delivery, the edge its database.
  const parts: { name: string; stop: () => Promise<void> }[] = [];
  const started = (name: string, stop: () => Promise<void>) => void parts.push({ name, stop });
  const stop = async () => {
    for (const part of parts.reverse()) {
      say(`stopping ${part.name}`);
      await part.stop().then(
        () => say(`stopped ${part.name}`),
        (e) => say(`shutdown of ${part.name}: ${(e as Error).message}`),
      );
    }
    parts.length = 0;
  };
  let pg: PostgresHandle | undefined;
  let proxy: NeonProxy | undefined;
  let edge: EdgeDev | undefined;
  try {
    const { tokens, generated } = await loadTokens(dataDir);
    if (generated.length) {
      say(`generated ${generated.join(" and ")} (kept in ${path.join(dataDir, "tokens.json")}):`);
      for (const k of generated) say(`  ${k}=${tokens[k]}`);
    }

    const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
    const pgAuth = pgAuthFromEnv();
    pg = await startPostgres({
      databaseUrl,
      dataDir: path.join(dataDir, "postgres"),
      port: opts.pgPort ?? envInt("PG_PORT", 54329),
      database: "wamonitor",
      auth: pgAuth,
      log: logger("pg"),
    });
    started("postgres", () => pg!.stop());
    say(pg.embedded ? `embedded Postgres 17 on ${new URL(pg.url).host}, data in ${path.join(dataDir, "postgres")}` : "using DATABASE_URL");

    const applied = await migrate(pg.url, { log: logger("migrate") });
    say(applied.length ? `applied ${applied.length} migration(s)` : "schema up to date");

    const target = needsProxy(pg.url);
    let serverAuth: ServerAuth | undefined;
    if (target) {
      // The Worker pipelines its password only where the server asks for one (tools/pg-auth.ts): ours does
      // unless PG_AUTH says otherwise; any other Postgres is asked.
      serverAuth = pg.embedded ? pgAuth : await serverAuthMethod(pg.url);
      proxy = await startNeonProxy({ target, port: opts.proxyPort ?? envInt("NEON_PROXY_PORT", 54330), log: logger("proxy") });
      started("proxy", () => proxy!.close());
      say(`Neon WebSocket proxy on ${proxy.address} -> ${target.host}:${target.port}, ${serverAuth === "password" ? "cleartext password, pipelined as on Neon" : `${serverAuth} login, not pipelined`}`);
    }

    const edgeLog = logger("edge");
    const stateDir = path.join(dataDir, "wrangler");
    await mkdir(stateDir, { recursive: true });
    edge = await startEdgeDev({
      port: opts.edgePort ?? envInt("EDGE_PORT", 8787),
      envFile: path.join(dataDir, "edge.env"),
      stateDir,
      log: edgeLog,
      vars: {
        DATABASE_URL: pg.url,
        AGENT_TOKEN: tokens.AGENT_TOKEN,
        DASHBOARD_TOKEN: tokens.DASHBOARD_TOKEN,
        ...(proxy ? { NEON_LOCAL_PROXY: proxy.address, NEON_LOCAL_AUTH: serverAuth! } : {}),
        ...settingsFromEnvironment(),
      },
    });
    started("edge", () => edge!.stop());
    say(`edge API on ${edge.url}`);

    // Cloudflare runs the cron trigger every minute; locally we fire the same handler on the same schedule.
    const cronLog = logger("cron");
    let firing: Promise<unknown> | undefined;
    const tick = setInterval(() => {
      firing = fireCron(edge!.url).then(
        (status) => status !== 200 && cronLog(`scheduled handler answered ${status}`),
        (err) => cronLog(`could not fire: ${(err as Error).message}`),
      );
    }, 60_000);
    started("cron", async () => {
      clearInterval(tick);
      await firing; // a run in progress finishes while the edge and Postgres are still up
    });

    let agent: AgentProcess | undefined;
    if (opts.agent) {
      const transport = opts.agent;
      // Your own agent.yaml at the top wins; otherwise the example with the four projects.
      const config = process.env.AGENT_CONFIG ?? (existsSync(path.join(ROOT, "agent.yaml")) ? path.join(ROOT, "agent.yaml") : path.join(ROOT, "agent/agent.example.yaml"));
      agent = await startAgentProcess({
        adminPort: opts.adminPort ?? envInt("ADMIN_PORT", 8080),
        log: logger("agent"),
        env: {
          AGENT_TOKEN: tokens.AGENT_TOKEN,
          EDGE_URL: edge.url,
          DATA_DIR: path.join(dataDir, transport === "simulator" ? "agent-simulator" : "agent"),
          AGENT_CONFIG: config,
          WA_TRANSPORT: transport,
        },
      });
      started("agent", () => agent!.stop());
      say(`agent (${transport}) admin on ${agent.adminUrl}, config ${path.relative(ROOT, config)}`);
    }

    const failed = Promise.race([
      edge.exited.then((code) => `wrangler dev exited with code ${code}`),
      ...(agent ? [agent.exited.then((code) => `the agent exited with code ${code}`)] : []),
    ]);
    return { edgeUrl: edge.url, databaseUrl: pg.url, agentUrl: agent?.adminUrl, tokens, failed, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
