import { createRoute } from "@hono/zod-openapi";
import { HealthDegraded, HealthOk } from "@wa-monitor/shared";
import { databaseIsUp } from "../db/probe.ts";
import { errors, json, routes } from "../http/openapi.ts";

const check = createRoute({
  method: "get",
  path: "/health",
  operationId: "health",
  tags: ["service"],
  summary: "Health",
  description:
    "Public, so it never opens a connection per hit: Postgres is probed at most every `HEALTH_PROBE_SECONDS` per " +
    "isolate, and concurrent requests share the probe.",
  responses: {
    200: json(HealthOk, "Up, and so is Postgres."),
    503: json(HealthDegraded, "Up, but Postgres is unreachable."),
    ...errors(),
  },
});

// Liveness is answered by this isolate itself; the database part comes from a probe shared by every request
// of the isolate and repeated at most every HEALTH_PROBE_SECONDS.
export const health = routes().openapi(check, async (c) => {
  const up = await databaseIsUp({
    key: c.var.config.DATABASE_URL,
    intervalMs: c.var.config.HEALTH_PROBE_SECONDS * 1000,
    check: () => c.var.db.query("SELECT 1"),
    keepAlive: (p) => {
      try {
        c.executionCtx.waitUntil(p);
      } catch {
        // No execution context (a plain fetch call in a script): the request itself awaits the probe.
      }
    },
  });
  return up ? c.json({ status: "ok" as const, db: "ok" as const }, 200) : c.json({ status: "degraded" as const, db: "unavailable" as const }, 503);
});
