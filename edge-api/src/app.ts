// The one app factory: request context, routes, and the central JSON error mapping.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./context.ts";
import { openDb } from "./db/client.ts";
import { ConfigError, loadConfig } from "./env.ts";
import { ApiError, errorBody, logError } from "./errors.ts";
import { agent } from "./routes/agent.ts";
import { bridges } from "./routes/bridges.ts";
import { dashboardApiTemporary } from "./routes/dashboard-api-temporary.ts";
import { projects } from "./routes/projects.ts";
import { drops } from "./routes/drops.ts";
import { health } from "./routes/health.ts";
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

export function createApp() {
  const app = new Hono<AppEnv>();

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

  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json(errorBody("payload_too_large", `request body is over ${MAX_BODY_BYTES} bytes`), 413),
    }),
  );

  app.route("/health", health);
  app.route("/v1/agent", agent);
  app.route("/v1/drops", drops);
  app.route("/v1/stats", stats);
  app.route("/v1/bridges", bridges);
  app.route("/v1/projects", projects);
  app.route("/v1", dashboardApiTemporary);

  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message, err.details), err.status);
    if (err instanceof HTTPException) {
      // Hono's own validator throws this for a body that is not JSON.
      if (err.status === 400) return c.json(errorBody("invalid_json", err.message || "malformed JSON body"), 400);
      if (err.status === 413) return c.json(errorBody("payload_too_large", err.message), 413);
      return c.json(errorBody(err.status === 401 ? "unauthorized" : "invalid_request", err.message), err.status);
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

  return app;
}
