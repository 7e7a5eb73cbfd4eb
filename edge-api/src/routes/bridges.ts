import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { listBridges } from "../db/bridges.ts";
import { requireToken } from "../http/auth.ts";

export const bridges = new Hono<AppEnv>()
  .use(requireToken("DASHBOARD_TOKEN"))
  .get("/", async (c) => c.json({ bridges: await listBridges(c.var.db) }));
