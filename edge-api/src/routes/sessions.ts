// The WhatsApp sessions' health, for the dashboard (DASHBOARD_TOKEN).
import { createRoute } from "@hono/zod-openapi";
import { BridgesResponse, SessionsResponse } from "@wa-monitor/shared";
import { listSessions } from "../db/sessions.ts";
import { dashboardToken, errors, json, routes, V1 } from "../http/openapi.ts";

const common = { method: "get" as const, tags: ["dashboard"], ...dashboardToken };

const DESCRIPTION =
  "Every session each agent reports in its heartbeats: state, phone, last heartbeat, last WhatsApp event, the last " +
  "drop it delivered, and `stale` once its agent has sent no heartbeat for `SESSION_STALE_SECONDS`.";

export const sessions = routes()
  .openapi(
    createRoute({
      ...common,
      path: "/v1/sessions",
      operationId: "listSessions",
      summary: "WhatsApp sessions",
      description: DESCRIPTION,
      responses: { 200: json(SessionsResponse, "The sessions, by agent and name."), ...errors(...V1) },
    }),
    async (c) => c.json({ sessions: await listSessions(c.var.db) }, 200),
  )
  .openapi(
    createRoute({
      ...common,
      path: "/v1/bridges",
      operationId: "listBridges",
      deprecated: true,
      summary: "WhatsApp sessions (deprecated alias)",
      description: "Deprecated alias of GET /v1/sessions, answering under the old name `bridges`.",
      responses: { 200: json(BridgesResponse, "The sessions, by agent and name."), ...errors(...V1) },
    }),
    async (c) => c.json({ bridges: await listSessions(c.var.db) }, 200),
  );
