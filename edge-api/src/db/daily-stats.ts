// Daily stats come from a rollup (migrations/0007_daily_stats_rollup.sql): per project and local day, counters
// that ingest (ingest.ts, SETTLE) and reviews (countReview below) change in the same transaction as what they
// count, so GET /v1/stats/daily reads a few hundred rows whatever the size of the history.
//
// The counters are kept in the zone recorded in daily_stats_zone, whatever the Worker's TIMEZONE: a Worker set
// to another zone still counts correctly in the recorded one, and refuses to serve stats until the rollup is
// rebuilt in its zone (`npm run rebuild-stats`), instead of answering with days it does not mean.
import { ApiError } from "../errors.ts";
import type { Queryable } from "./client.ts";

export const REBUILD_COMMAND = "npm run rebuild-stats";

// One row even when the range is empty, so the zone is always known; a (day, project) whose counters are all
// zero (a first post that moved to an earlier day) is not a row, as it is not one in the recount.
const DAILY = /* sql */ `
  SELECT z.zone, to_char(s.day, 'YYYY-MM-DD') AS date, p.name AS project,
         sum(s.new)::int AS new, sum(s.resubmitted)::int AS resubmitted,
         sum(s.complete)::int AS complete, sum(s.incomplete)::int AS incomplete
  FROM daily_stats_zone z
  LEFT JOIN (daily_stats s JOIN projects p ON p.id = s.project_id)
    ON z.zone = $3 AND s.day BETWEEN $1::date AND $2::date
  GROUP BY z.zone, s.day, p.name
  HAVING s.day IS NULL OR sum(s.new) > 0 OR sum(s.resubmitted) > 0 OR sum(s.complete) > 0 OR sum(s.incomplete) > 0
  ORDER BY s.day, p.name`;

// After a review is inserted (the drop's row is locked, so no other review of it runs): if it is now the last of
// its drop's local day, the day counts it instead of the review that was the last until now, if any. A drop has
// a handful of reviews, read by reviews_drop_idx; the day is compared as the recount defines it.
const COUNT_REVIEW = /* sql */ `
  WITH zone AS (
    SELECT zone FROM daily_stats_zone FOR SHARE
  ),
  day AS (
    SELECT ($3::timestamptz AT TIME ZONE z.zone)::date AS day, z.zone FROM zone z
  ),
  last_two AS (
    SELECT r.id, r.status, row_number() OVER (ORDER BY r.created_at DESC, r.id DESC) AS rank
    FROM reviews r, day
    WHERE r.drop_number = $1 AND (r.created_at AT TIME ZONE day.zone)::date = day.day
    ORDER BY r.created_at DESC, r.id DESC
    LIMIT 2
  ),
  deltas AS (
    SELECT l.status, CASE l.rank WHEN 1 THEN 1 ELSE -1 END AS n
    FROM last_two l
    WHERE EXISTS (SELECT 1 FROM last_two WHERE rank = 1 AND id = $4::bigint)
  ),
  counted AS (
    INSERT INTO daily_stats AS t (day, project_id, complete, incomplete)
    SELECT day.day, $2::bigint, coalesce(sum(n) FILTER (WHERE status = 'complete'), 0),
           coalesce(sum(n) FILTER (WHERE status = 'incomplete'), 0)
    FROM deltas, day
    GROUP BY day.day
    HAVING sum(n) FILTER (WHERE status = 'complete') <> 0 OR sum(n) FILTER (WHERE status = 'incomplete') <> 0
    ON CONFLICT (day, project_id) DO UPDATE SET complete = t.complete + excluded.complete,
                                                incomplete = t.incomplete + excluded.incomplete
  )
  SELECT (SELECT zone FROM zone) AS zone`;

export interface DailyRow {
  date: string;
  project: string;
  new: number;
  resubmitted: number;
  complete: number;
  incomplete: number;
}

/** No zone row means the rollup was never built (or was tampered with): counting on would be silently wrong. */
export function missingStatsZone(): Error {
  return new Error(`daily_stats_zone is empty: the daily stats rollup was never built; run \`${REBUILD_COMMAND}\``);
}

export async function dailyStats(db: Queryable, from: string, to: string, timeZone: string): Promise<DailyRow[]> {
  const rows = await db.query<DailyRow & { zone: string; date: string | null } & Record<string, unknown>>(DAILY, [from, to, timeZone]);
  const zone = rows[0]?.zone;
  if (zone === undefined) throw missingStatsZone();
  if (zone !== timeZone) {
    throw new ApiError(
      "stats_zone_mismatch",
      `daily stats are kept in ${zone} days but this Worker's TIMEZONE is ${timeZone}: ` +
        `rebuild them in ${timeZone} with \`TIMEZONE=${timeZone} DATABASE_URL=… ${REBUILD_COMMAND}\`, or set TIMEZONE back to ${zone}`,
      { statsZone: zone, timeZone },
    );
  }
  return rows.filter((r) => r.date !== null).map(({ zone: _zone, ...day }) => day);
}

export interface CountedReview {
  dropNumber: string;
  projectId: string;
  reviewId: string;
  createdAt: Date;
}

/** Takes a just-inserted review into the rollup, in the same transaction, after the drop's row is locked. */
export async function countReview(q: Queryable, r: CountedReview): Promise<void> {
  const [row] = await q.query<{ zone: string | null }>(COUNT_REVIEW, [r.dropNumber, r.projectId, r.createdAt, r.reviewId]);
  if (!row?.zone) throw missingStatsZone();
}
