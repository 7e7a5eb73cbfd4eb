import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";

/** Bearer auth against one of the configured tokens; every failure is the same 401, compared in constant time. */
export function requireToken(which: "AGENT_TOKEN" | "DASHBOARD_TOKEN"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(c.req.header("authorization") ?? "");
    if (!m || !(await timingSafeEqual(m[1]!, c.var.config[which]))) {
      c.header("WWW-Authenticate", 'Bearer realm="wa-monitor"');
      throw new ApiError("unauthorized", "missing or wrong bearer token");
    }
    await next();
  };
}
