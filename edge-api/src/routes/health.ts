import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

export const health = new Hono<AppEnv>().get("/", async (c) => {
  try {
    await c.var.db.query("SELECT 1");
    return c.json({ status: "ok", db: "ok" });
  } catch {
    return c.json({ status: "degraded", db: "unavailable" }, 503);
  }
});
