// `npm run migrate`: applies migrations/ to DATABASE_URL (e.g. Neon), or to the embedded Postgres in .data/.
import path from "node:path";
import { ROOT } from "../tools/edge-dev.ts";
import { logger } from "../tools/log.ts";
import { migrate } from "../tools/migrate.ts";
import { startPostgres } from "../tools/postgres.ts";

const say = logger("migrate");
const pg = await startPostgres({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: path.join(ROOT, ".data", "postgres"),
  port: Number(process.env.PG_PORT || 54329),
  database: "wamonitor",
});
try {
  const applied = await migrate(pg.url, { log: say });
  say(applied.length ? `applied ${applied.length} migration(s)` : "schema up to date");
} catch (err) {
  say((err as Error).message);
  process.exitCode = 1;
} finally {
  await pg.stop();
}
