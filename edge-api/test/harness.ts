// Runs the Worker's own fetch handler in Node against a fresh real Postgres database, through the production
// Neon driver and the local WebSocket proxy.
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { inject } from "vitest";
import { freshDatabase, query } from "../../tools/test/db.ts";
import type { Env } from "../src/env.ts";
import { callWorker, EXAMPLE_PROJECTS } from "../../tools/worker.ts";
import { checkAnswer } from "./openapi-check.ts";

export { callWorker };

export const AGENT_TOKEN = "agent-test-token-0123456789";
export const DASHBOARD_TOKEN = "dashboard-test-token-0123456789";

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

/** Worker bindings for a fresh test database. */
export async function edgeEnv(overrides: Partial<Env> = {}): Promise<Env> {
  return {
    DATABASE_URL: await freshDatabase(),
    AGENT_TOKEN,
    DASHBOARD_TOKEN,
    NEON_LOCAL_PROXY: inject("pg").proxy,
    NEON_LOCAL_AUTH: inject("pg").auth,
    TIMEZONE: "Africa/Johannesburg",
    ...overrides,
  };
}

export async function edgeHarness(overrides: Partial<Env> = {}) {
  const env = await edgeEnv(overrides);
  const databaseUrl = env.DATABASE_URL;

  async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
    const headers = new Headers(opts.headers);
    if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
    let body: BodyInit | undefined = opts.rawBody;
    if (opts.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(opts.json);
    }
    const req = new Request(`http://edge.test${path}`, { method, headers, body: body ?? null });
    const res = await callWorker(req, env);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* leave as text; tests assert JSON where it matters */
    }
    // Every answer a test sees is one the OpenAPI document describes.
    checkAnswer(method, path, res.status, res.headers.get("content-type"), parsed);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  return {
    env,
    databaseUrl,
    call,
    agent: <T = any>(method: string, path: string, json?: unknown) => call<T>(method, path, { token: AGENT_TOKEN, json }),
    dash: <T = any>(method: string, path: string, json?: unknown) => call<T>(method, path, { token: DASHBOARD_TOKEN, json }),
  };
}

export type Edge = Awaited<ReturnType<typeof edgeHarness>>;

export const PROJECTS = EXAMPLE_PROJECTS;

export const LAWLEY = PROJECTS[0]!.groupJid;

let seq = 0;
/** A realistic submission; override what the test cares about. */
export function submission(over: Record<string, unknown> = {}) {
  seq += 1;
  return {
    messageId: `3EB0${String(seq).padStart(16, "0")}`,
    chatJid: LAWLEY,
    dropNumber: "DR10000001",
    session: "primary",
    senderJid: "27821234567@s.whatsapp.net",
    senderPhone: "+27821234567",
    senderName: "Thabo",
    text: "DR10000001 done, all photos posted",
    sentAt: "2026-11-24T08:15:00.000Z",
    ...over,
  };
}

/** The Worker's fetch handler as an HTTP server on 127.0.0.1 (for the agent and the browser). */
export interface EdgeServer {
  url: string;
  databaseUrl: string;
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
