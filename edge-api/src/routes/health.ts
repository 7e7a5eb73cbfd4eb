import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { databaseIsUp } from "../db/probe.ts";

// Liveness is answered by this isolate itself; the database part comes from a probe shared by every request
// of the isolate and repeated at most every HEALTH_PROBE_SECONDS.
export const health = new Hono<AppEnv>().get("/", async (c) => {
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
  return up ? c.json({ status: "ok", db: "ok" }) : c.json({ status: "degraded", db: "unavailable" }, 503);
});
