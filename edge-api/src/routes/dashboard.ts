// The QA dashboard page and its assets. Public: they contain no data, only the code that asks for it.
import { createRoute, z } from "@hono/zod-openapi";
import { DASHBOARD_CSP, DASHBOARD_CSS, dashboardHtml } from "../dashboard/page.ts";
import { DASHBOARD_JS } from "../dashboard/script.ts";
import { errors, routes } from "../http/openapi.ts";

const headers = (type: string) => ({
  "content-type": type,
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
});

const file = <P extends string>(path: P, type: string, summary: string) =>
  createRoute({
    method: "get",
    path,
    operationId: `dashboard${path === "/" ? "Page" : path.slice(path.lastIndexOf(".") + 1).toUpperCase()}`,
    tags: ["service"],
    summary,
    responses: { 200: { description: summary, content: { [type]: { schema: z.string() } } }, ...errors() },
  });

export const dashboard = routes()
  .openapi(file("/", "text/html", "The QA dashboard page"), (c) =>
    c.body(dashboardHtml(c.var.config.TIMEZONE), 200, headers("text/html; charset=utf-8")),
  )
  .openapi(file("/dashboard.js", "text/javascript", "The dashboard's script"), (c) =>
    c.body(DASHBOARD_JS, 200, headers("text/javascript; charset=utf-8")),
  )
  .openapi(file("/dashboard.css", "text/css", "The dashboard's style sheet"), (c) =>
    c.body(DASHBOARD_CSS, 200, headers("text/css; charset=utf-8")),
  );
