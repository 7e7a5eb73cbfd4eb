// The parts every benchmark stands on: one embedded Postgres cluster in a temp dir, a migrated database per
// benchmark, the Neon WebSocket proxy, and the Worker's own fetch handler — called in-process or served over
// HTTP — using the production Neon driver, exactly as the integration tests do (without vitest).
import { rmSync } from "node:fs";
import { chmod, mkdtemp } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import pg from "pg";
import type { Env } from "../../edge-api/src/env.ts";
import { migrate } from "../migrate.ts";
import { callWorker, EXAMPLE_PROJECTS } from "../worker.ts";
import { startNeonProxy } from "../neon-proxy.ts";
import { startLocalR2 } from "../r2.ts";
import { pgAuthFromEnv, type PgAuth } from "../pg-auth.ts";
import { freePort } from "../ports.ts";
import { ensureDatabase, startEmbeddedPostgres } from "../postgres.ts";

export const AGENT_TOKEN = "agent-bench-token-0123456789";
export const DASHBOARD_TOKEN = "dashboard-bench-token-0123456789";
export const TIMEZONE = "Africa/Johannesburg";

export const PROJECTS = EXAMPLE_PROJECTS;

/** Resources released in reverse order of acquisition, once, whether the run succeeded or not. */
export class Cleanup {
  private readonly steps: { name: string; fn: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  add(name: string, fn: () => Promise<unknown>): void {
    this.steps.push({ name, fn });
  }

  run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const { name, fn } of this.steps.reverse()) {
        await fn().catch((e) => process.stderr.write(`cleanup: ${name}: ${(e as Error).message}\n`));
      }
      this.steps.length = 0;
    })());
  }
}

export interface Rig {
  dir: string;
  pgPort: number;
  adminUrl: string;
  proxyAddress: string;
  /** How loopback connections log in now: PG_AUTH (`password`, as Neon, unless set), or what setAuth chose. */
  auth: PgAuth;
  /** Switches the cluster's loopback logins without a restart, to compare SCRAM with Neon's way. */
  setAuth(auth: PgAuth): Promise<void>;
  /** Postgres connections opened through the proxy so far. */
  connections(): number;
  /** Server log lines since the last call (auto_explain plans arrive here). */
  drainServerLog(): string[];
  /** A new, migrated database; returns its URL. */
  database(name: string): Promise<string>;
  /** The Worker's PHOTOS bucket: a real local R2 (tools/r2.ts) kept in the rig's directory. */
  photos: Env["PHOTOS"];
}

// Durability stays on (as on Neon); a larger WAL budget only keeps the bulk seed from checkpointing every
// few seconds.
const PG_FLAGS = ["-c", "max_wal_size=4GB", "-c", "shared_buffers=256MB", "-c", "max_connections=200"];

export async function startRig(cleanup: Cleanup): Promise<Rig> {
  const dir = await mkdtemp(path.join(tmpdir(), "wam-bench-"));
  // An exit that skips the async cleanup (an uncaught error) still removes the directory; the launcher's lifeline
  // (tools/processes.ts) stops the cluster in that case.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);
  cleanup.add("temp dir", async () => removeDir());
  // mkdtemp makes 0700 dirs; as root the cluster runs as `postgres`, which must be able to enter them.
  await chmod(dir, 0o755);

  let log: string[] = [];
  const pgPort = await freePort();
  const auth = pgAuthFromEnv();
  const pgHandle = await startEmbeddedPostgres({
    dataDir: path.join(dir, "pg"),
    port: pgPort,
    database: "postgres",
    flags: PG_FLAGS,
    auth,
    log: (l) => {
      // Bounded: only the plans we ask for matter, and a long run must not grow this without limit.
      if (log.length < 50_000) log.push(l);
    },
  });
  cleanup.add("postgres", () => pgHandle.stop());
  const adminUrl = pgHandle.url;

  const proxy = await startNeonProxy({ target: { host: "127.0.0.1", port: pgPort } });
  cleanup.add("neon proxy", () => proxy.close());

  const r2 = await startLocalR2(path.join(dir, "r2"));
  cleanup.add("r2", () => r2.dispose());

  const rig: Rig = {
    dir,
    photos: r2.PHOTOS,
    pgPort,
    adminUrl,
    proxyAddress: proxy.address,
    auth,
    async setAuth(next) {
      await pgHandle.setAuth!(next);
      rig.auth = next;
    },
    connections: () => proxy.connections(),
    drainServerLog() {
      const out = log;
      log = [];
      return out;
    },
    async database(name) {
      await ensureDatabase(adminUrl, name);
      const url = adminUrl.replace(/\/postgres$/, `/${name}`);
      await migrate(url);
      return url;
    },
  };
  return rig;
}

export function pgSettingsLine(): string {
  return `Postgres 17 (embedded, fsync on) ${PG_FLAGS.filter((f) => f !== "-c").join(" ")}`;
}

export function edgeEnv(rig: Rig, databaseUrl: string): Env {
  return {
    PHOTOS: rig.photos,
    DATABASE_URL: databaseUrl,
    AGENT_TOKEN,
    DASHBOARD_TOKEN,
    NEON_LOCAL_PROXY: rig.proxyAddress,
    NEON_LOCAL_AUTH: rig.auth,
    TIMEZONE,
  };
}

/** The Worker's fetch with an execution context whose waitUntil work (closing the pool) is awaited. */

export interface Reply<T = any> {
  status: number;
  body: T;
}

export type WorkerCall = <T = any>(method: string, path: string, opts?: { token?: string; json?: unknown }) => Promise<Reply<T>>;

function caller(send: (req: Request) => Promise<Response>, base: string): WorkerCall {
  return async (method, urlPath, opts = {}) => {
    const headers = new Headers();
    if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
    let body: string | null = null;
    if (opts.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(opts.json);
    }
    const res = await send(new Request(`${base}${urlPath}`, { method, headers, body }));
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${urlPath} answered ${res.status}: ${text.slice(0, 300)}`);
    return { status: res.status, body: JSON.parse(text) };
  };
}

/** In-process calls to the Worker; a non-2xx answer throws, so a broken run never prints numbers. */
export function workerClient(env: Env): WorkerCall {
  return caller((req) => callWorker(req, env), "http://edge.bench");
}

/** The same calls over HTTP to a served Worker (`wrangler dev`, or serveWorker below). */
export function httpClient(baseUrl: string): WorkerCall {
  return caller((req) => fetch(req), baseUrl.replace(/\/$/, ""));
}

export interface EdgeServer {
  url: string;
  /** Successful requests per "METHOD /path", so callers can wait for the agent's first project push. */
  counts: Map<string, number>;
}

/** Stands between the server and the Worker: answers a request itself, or passes it on with `next`. */
export type EdgeIntercept = (req: Request, next: () => Promise<Response>) => Promise<Response>;

/** The Worker over HTTP on 127.0.0.1, as the agent reaches it in production (minus workerd). */
export async function serveWorker(env: Env, cleanup: Cleanup, intercept?: EdgeIntercept): Promise<EdgeServer> {
  const counts = new Map<string, number>();
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        fetch: async (req: Request) => {
          const res = intercept ? await intercept(req, () => callWorker(req, env)) : await callWorker(req, env);
          if (res.ok) {
            const key = `${req.method} ${new URL(req.url).pathname}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
          return res;
        },
      },
      () => resolve(s),
    );
  });
  cleanup.add("edge server", async () => {
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts };
}

/** A plain TCP client for seeding and checking, outside the code under test. */
export async function sqlClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}
