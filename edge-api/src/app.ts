// The one app factory: request context, routes (each defined once with createRoute, which is also what the
// OpenAPI document is made of), and the central JSON error mapping.
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { PHOTO_MAX_BYTES, type ErrorCode } from "@wa-monitor/shared";
import { openDb } from "./db/client.ts";
import { ConfigError, loadConfig } from "./env.ts";
import { ApiError, errorBody, logError } from "./errors.ts";
import { DOCUMENT, routes, SECURITY_SCHEMES } from "./http/openapi.ts";
import { agent } from "./routes/agent.ts";
import { agentPhotos, PHOTO_BLOB_PUT } from "./routes/agent-photos.ts";
import { drops } from "./routes/drops.ts";
import { health } from "./routes/health.ts";
import { photos } from "./routes/photos.ts";
import { projects } from "./routes/projects.ts";
import { reference } from "./routes/reference.ts";
import { sessions } from "./routes/sessions.ts";
import { settings } from "./routes/settings.ts";
import { stats } from "./routes/stats.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

function afterResponse(c: { executionCtx: { waitUntil(p: Promise<unknown>): void } }, work: Promise<unknown>): Promise<unknown> | void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (plain fetch in a script): finish inline.
    return work;
  }
}

// Hono's own refusals: a body that is not JSON (400), one over the limit (413), a body of another media type
// than the route reads (415, which this API has always answered as a 400).
const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = { 400: "invalid_json", 401: "unauthorized", 413: "payload_too_large" };

export function createApp() {
  const app = routes();

  app.use(async (c, next) => {
    c.set("config", loadConfig(c.env));
    const db = openDb(c.var.config);
    c.set("db", db);
    try {
      await next();
    } finally {
      await afterResponse(c, db.end());
    }
  });

  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError("payload_too_large", `request body is over ${maxSize} bytes`);
      },
    });
  const apiLimit = limit(MAX_BODY_BYTES);
  // A photo's bytes are the one body allowed past 1 MiB, up to the largest photo kept.
  const photoLimit = limit(PHOTO_MAX_BYTES);
  app.use("/v1/*", (c, next) => (c.req.method === "PUT" && PHOTO_BLOB_PUT.test(c.req.path) ? photoLimit : apiLimit)(c, next));

  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  }
  const api = app
    .route("/", health)
    .route("/", agent)
    .route("/", agentPhotos)
    .route("/", drops)
    .route("/", photos)
    .route("/", stats)
    .route("/", sessions)
    .route("/", projects)
    .route("/", settings)
    .route("/", reference(() => app.getOpenAPI31Document(DOCUMENT)));

  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message, err.details), err.status);
    if (err instanceof HTTPException) {
      const e = new ApiError(HTTP_EXCEPTION_CODES[err.status] ?? "invalid_request", err.message || "malformed request");
      return c.json(errorBody(e.code, e.message), e.status);
    }
    if (err instanceof ConfigError) {
      logError(err.message);
      return c.json(errorBody("misconfigured", "the service is misconfigured; see the Worker logs"), 500);
    }
    const code = (err as { code?: unknown }).code;
    if (code === "23505") {
      // Constraint names describe the schema: logged for us, not answered to the client.
      logError("conflict", { constraint: (err as { constraint?: string }).constraint, path: c.req.path });
      return c.json(errorBody("conflict", "conflicts with existing data"), 409);
    }
    // Class 22 is "data exception" (a value out of range, a bad encoding), 54 "program limit exceeded" (a value
    // too large to index): the input's fault, not the server's.
    if (typeof code === "string" && (code.startsWith("22") || code.startsWith("54"))) {
      return c.json(errorBody("invalid_request", "a value in the request is out of range or malformed", { sqlstate: code }), 400);
    }
    logError("unhandled", { error: err.message, code, path: c.req.path });
    return c.json(errorBody("internal", "internal error"), 500);
  });

  return api;
}

/** The routes' types, for typed clients (the agent's edge client): import it with `import type` only. */
export type AppType = ReturnType<typeof createApp>;
