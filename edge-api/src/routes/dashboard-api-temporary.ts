// TEMPORARY (issue 9): replaced by the api helper's routes at merge. The smallest GET /v1/settings and
// GET /v1/sessions the dashboard reads, in exactly the shapes of issue9-plan.md, so the page's tests run now.
import { Hono } from "hono";
import { QA_STEPS } from "@wa-monitor/shared";
import type { AppEnv } from "../context.ts";
import { listBridges } from "../db/bridges.ts";
import { requireToken } from "../http/auth.ts";

// Mounted at /v1: the token check is per route, so it never reaches the other /v1 routes.
export const dashboardApiTemporary = new Hono<AppEnv>()
  .get("/settings", requireToken("DASHBOARD_TOKEN"), (c) =>
    c.json({ timeZone: c.var.config.TIMEZONE, qaSteps: QA_STEPS.map(({ key, label }) => ({ key, label })) }),
  )
  .get("/sessions", requireToken("DASHBOARD_TOKEN"), async (c) => c.json({ sessions: await listBridges(c.var.db) }));
