// The API describing itself: the OpenAPI document, and a readable reference rendered from it. The reference's
// viewer (Swagger UI, from the pinned swagger-ui-dist package) and its start-up script are static assets under
// /docs/ (tools/assets-build.ts), so the page loads nothing from elsewhere and runs under the same strict CSP
// as the dashboard.
import { createRoute, z } from "@hono/zod-openapi";
import { PAGE_HEADERS } from "../http/page-headers.ts";
import { errors, json, routes } from "../http/openapi.ts";

const REFERENCE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wa-monitor edge API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css">
<script src="/docs/swagger-ui/swagger-ui-bundle.js" defer></script>
<script src="/docs/reference.js" defer></script>
</head>
<body>
<div id="reference"><noscript>The API reference needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</noscript></div>
</body>
</html>
`;

const OpenApiDocument = z
  .object({ openapi: z.string(), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), z.unknown()) })
  .loose();

const documentRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "openapi",
  tags: ["service"],
  summary: "This document",
  description: "OpenAPI 3.1, generated from the route definitions the Worker runs.",
  responses: { 200: json(OpenApiDocument, "The OpenAPI document."), ...errors() },
});

const referenceRoute = createRoute({
  method: "get",
  path: "/docs",
  operationId: "docs",
  tags: ["service"],
  summary: "API reference",
  description: "This document, readable in a browser. Its script and styles are static files under /docs/.",
  responses: { 200: { description: "The reference page.", content: { "text/html": { schema: z.string() } } }, ...errors() },
});

/** /openapi.json and /docs, describing what `describe` returns: the whole app's document, built on first use (the
 * routes do not change while the isolate lives). */
export function reference(describe: () => unknown) {
  let document: z.infer<typeof OpenApiDocument> | undefined;
  return routes()
    .openapi(documentRoute, (c) => c.json((document ??= describe() as z.infer<typeof OpenApiDocument>), 200))
    .openapi(referenceRoute, (c) =>
      c.body(REFERENCE_HTML, 200, {
        "content-type": "text/html; charset=utf-8",
        // The dashboard's rules: scripts and styles from this origin only, nothing inline, no other origin.
        ...PAGE_HEADERS,
      }),
    );
}
