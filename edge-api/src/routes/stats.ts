import { StatsQuery } from "@wa-monitor/shared";
import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { dailyStats } from "../db/daily-stats.ts";
import { requireToken } from "../http/auth.ts";
import { validate } from "../http/validate.ts";

export const stats = new Hono<AppEnv>()
  .use(requireToken("DASHBOARD_TOKEN"))
  .get("/daily", validate("query", StatsQuery), async (c) => {
    const { from, to } = c.req.valid("query");
    return c.json({ days: await dailyStats(c.var.db, from, to, c.var.config.TIMEZONE) });
  });
