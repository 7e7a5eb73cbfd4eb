// Rebuilds the daily stats rollup (migrations/0007_daily_stats_rollup.sql) from the records, in a time zone:
// after the Worker's TIMEZONE changes (GET /v1/stats/daily answers 409 stats_zone_mismatch until then), or to
// fold in what an older Worker wrote after the migration's backfill. Safe while ingest and reviews run: it waits
// for those counting now, and the next ones wait for it (daily_stats_zone's row lock).
import pg from "pg";

export async function rebuildDailyStats(databaseUrl: string, zone: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("SELECT rebuild_daily_stats($1) AS n", [zone]);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}
