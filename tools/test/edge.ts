// The edge as the tests of every workspace meet it: its tokens and projects, its bindings on a fresh real Postgres
// database (through the production Neon driver and the local proxy) and a real local R2 bucket (tools/r2.ts: one per
// test file, shared by its tests: objects are keyed by their SHA-256), and the Worker's own fetch handler served over
// HTTP on 127.0.0.1 for agents and browsers. Each workspace's own helpers (edge-api/test/harness.ts,
// agent/test/helpers.ts) build on this file; neither imports the other's.
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { inject } from "vitest";
import type { Env } from "../../edge-api/src/env.ts";
import { callWorker, EXAMPLE_PROJECTS } from "../worker.ts";
import { freshDatabase, query } from "./db.ts";
import { testPhotos } from "./photos.ts";

export const AGENT_TOKEN = "agent-test-token-0123456789";
export const DASHBOARD_TOKEN = "dashboard-test-token-0123456789";

export { testPhotos };
export const PROJECTS = EXAMPLE_PROJECTS;
export const LAWLEY = PROJECTS[0]!.groupJid;

/** Worker bindings for a fresh test database. */
export async function edgeEnv(overrides: Partial<Env> = {}): Promise<Env> {
  return {
    PHOTOS: (await testPhotos()).PHOTOS,
    DATABASE_URL: await freshDatabase(),
    AGENT_TOKEN,
    DASHBOARD_TOKEN,
    NEON_LOCAL_PROXY: inject("pg").proxy,
    NEON_LOCAL_AUTH: inject("pg").auth,
    TIMEZONE: "Africa/Johannesburg",
    ...overrides,
  };
}

/** The Worker's fetch handler as an HTTP server on 127.0.0.1 (for the agent and the browser). */
export interface EdgeServer {
  url: string;
  databaseUrl: string;
  /** Its bindings: a test's stand-in handler can call the Worker with them (callWorker in tools/worker.ts). */
  env: Env;
  /** Paths of the requests that reached the Worker. */
  requests: string[];
  /** Awaited after the Worker answered and before the answer is sent: lets a test hold a response. */
  afterHandle: ((req: Request) => Promise<void>) | undefined;
  /** May answer instead of the Worker (a test's stand-in for an edge refusing something). */
  beforeHandle: ((req: Request) => Promise<Response | undefined>) | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

export async function startEdgeServer(): Promise<EdgeServer> {
  const env = await edgeEnv();
  let server: ServerType | undefined;
  let port = 0;
  const edge: EdgeServer = {
    url: "",
    databaseUrl: env.DATABASE_URL,
    env,
    requests: [],
    afterHandle: undefined,
    beforeHandle: undefined,
    async start() {
      server = await new Promise<ServerType>((resolve) => {
        const s = serve(
          {
            hostname: "127.0.0.1",
            port,
            fetch: async (req: Request) => {
              edge.requests.push(`${req.method} ${new URL(req.url).pathname}`);
              const early = await edge.beforeHandle?.(req);
              if (early) return early;
              const res = await callWorker(req, env);
              if (edge.afterHandle) await edge.afterHandle(req);
              return res;
            },
          },
          () => resolve(s),
        );
      });
      port = (server.address() as AddressInfo).port;
      edge.url = `http://127.0.0.1:${port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((r) => s.close(() => r()));
    },
    query: (sql, params = []) => query(env.DATABASE_URL, sql, params),
  };
  await edge.start();
  return edge;
}
