// `npm run rebuild-stats`: recounts the daily stats rollup of DATABASE_URL (e.g. Neon), or of the embedded
// Postgres in .data/, in TIMEZONE (the Worker's; unset, the Worker's default).
import path from "node:path";
import { Settings } from "../edge-api/src/env.ts";
import { ROOT } from "../tools/edge-dev.ts";
import { logger } from "../tools/log.ts";
import { startPostgres } from "../tools/postgres.ts";
import { rebuildDailyStats } from "../tools/stats-rollup.ts";

const say = logger("rebuild-stats");
const zone = process.env.TIMEZONE || Settings.shape.TIMEZONE.parse(undefined);
const pg = await startPostgres({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: path.join(ROOT, ".data", "postgres"),
  port: Number(process.env.PG_PORT || 54329),
  database: "wamonitor",
});
try {
  const rows = await rebuildDailyStats(pg.url, zone);
  say(`daily stats rebuilt in ${zone}: ${rows} (day, project) rows`);
} catch (err) {
  say((err as Error).message);
  process.exitCode = 1;
} finally {
  await pg.stop();
}
