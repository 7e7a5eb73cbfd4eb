// The edge's own tests: the Worker's fetch handler called in-process against a fresh real Postgres database
// (edgeHarness), and realistic submissions. What the agent's tests use as well lives in tools/test/edge.ts.
import { callWorker } from "../../tools/worker.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, edgeEnv, LAWLEY, PROJECTS, startEdgeServer, type EdgeServer } from "../../tools/test/edge.ts";
import type { Env } from "../src/env.ts";
import { checkAnswer } from "./openapi-check.ts";

export { AGENT_TOKEN, DASHBOARD_TOKEN, LAWLEY, PROJECTS, startEdgeServer, type EdgeServer };

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
  /** The body's exact bytes (a photo's). */
  bytes: Uint8Array;
}

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
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
    const bytes = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* leave as text; tests assert JSON where it matters */
    }
    // Every answer a test sees is one the OpenAPI document describes.
    checkAnswer(method, path, res.status, res.headers.get("content-type"), parsed);
    return { status: res.status, body: parsed as T, headers: res.headers, bytes };
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
