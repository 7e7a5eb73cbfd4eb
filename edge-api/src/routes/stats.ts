import { createRoute } from "@hono/zod-openapi";
import { DailyStats, StatsQuery } from "@wa-monitor/shared";
import { dailyStats } from "../db/daily-stats.ts";
import { dashboardToken, errors, json, routes, V1 } from "../http/openapi.ts";

const daily = createRoute({
  method: "get",
  path: "/v1/stats/daily",
  operationId: "dailyStats",
  tags: ["dashboard"],
  summary: "Daily counts",
  description:
    "Per local day (the Worker's `TIMEZONE`) and project: new drops, resubmissions, and drops whose last review " +
    "that day was complete or incomplete; at most 366 days. `409 stats_zone_mismatch` while the counters are kept " +
    "in another zone (rebuild them with `npm run rebuild-stats`).",
  ...dashboardToken,
  request: { query: StatsQuery },
  responses: { 200: json(DailyStats, "The days of the range that have counts."), ...errors(...V1, "invalid_request", "stats_zone_mismatch") },
});

export const stats = routes().openapi(daily, async (c) => {
  const { from, to } = c.req.valid("query");
  return c.json({ days: await dailyStats(c.var.db, from, to, c.var.config.TIMEZONE) }, 200);
});
