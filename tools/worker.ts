// The edge Worker's own fetch handler, called in-process from Node (tests and benchmarks): the execution
// context's waitUntil work (ending the request's Postgres pool) is awaited before the response is returned.
import type { ExecutionContext } from "hono";
import type { Env } from "../edge-api/src/env.ts";
import worker from "../edge-api/src/index.ts";

export async function callWorker(req: Request, env: Env): Promise<Response> {
  const pending: Promise<unknown>[] = [];
  const ctx: ExecutionContext = {
    waitUntil: (p: Promise<unknown>) => void pending.push(p),
    passThroughOnException: () => {},
    props: {},
  };
  const res = await worker.fetch(req, env, ctx);
  const body = await res.arrayBuffer();
  await Promise.all(pending);
  return new Response(body, { status: res.status, headers: res.headers });
}

/** The four projects of the brief, as the example agent config has them. */
export const EXAMPLE_PROJECTS = [
  { name: "Lawley", groupJid: "120363418298130331@g.us", enabled: true, description: "Lawley fibre rollout" },
  { name: "Velo Test", groupJid: "120363421664266245@g.us", enabled: true, description: "Velo test group" },
  { name: "Mohadin", groupJid: "120363421532174586@g.us", enabled: true, description: "Mohadin" },
  { name: "Mamelodi", groupJid: "120363408849234743@g.us", enabled: true, description: "Mamelodi" },
];
