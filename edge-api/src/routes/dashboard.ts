// The QA dashboard page and its assets. Public: they contain no data, only the code that asks for it.
import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { DASHBOARD_CSP, DASHBOARD_CSS, dashboardHtml } from "../dashboard/page.ts";
import { DASHBOARD_JS } from "../dashboard/script.ts";

const headers = (type: string) => ({
  "content-type": type,
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
});

export const dashboard = new Hono<AppEnv>()
  .get("/", (c) => c.body(dashboardHtml(c.var.config.TIMEZONE), 200, headers("text/html; charset=utf-8")))
  .get("/dashboard.js", (c) => c.body(DASHBOARD_JS, 200, headers("text/javascript; charset=utf-8")))
  .get("/dashboard.css", (c) => c.body(DASHBOARD_CSS, 200, headers("text/css; charset=utf-8")));
