-- Daily stats from a rollup: per project and local calendar day, the counts GET /v1/stats/daily answers with,
-- kept by ingest and reviews in the same transaction as the change they count (edge-api/src/db/daily-stats.ts).
-- The numbers are those issue 7 defined and never change after the fact:
--   new          drops by the local day of their first post (first_submitted_at; a late earlier post moves it)
--   resubmitted  distinct drops with a resubmission post that day, by the post's own sent_at and project
--   complete,    for each drop and local day, the last review made that day decides which of the two counts it
--   incomplete
CREATE TABLE daily_stats (
  day         date    NOT NULL,
  project_id  bigint  NOT NULL REFERENCES projects (id),
  new         integer NOT NULL DEFAULT 0,
  resubmitted integer NOT NULL DEFAULT 0,
  complete    integer NOT NULL DEFAULT 0,
  incomplete  integer NOT NULL DEFAULT 0,
  PRIMARY KEY (day, project_id)
);

-- Calendar days exist only in a time zone: the one the counters are kept in. Writers count in this zone, not in
-- their own TIMEZONE, and hold this row FOR SHARE while they do; a rebuild takes it FOR UPDATE, so it waits for
-- the writers counting now and the next ones wait for it. The Worker refuses to serve stats in another zone.
CREATE TABLE daily_stats_zone (
  only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  zone       text NOT NULL,
  rebuilt_at timestamptz NOT NULL DEFAULT now()
);

-- Recounts the whole rollup from the records (drops, submissions, reviews) in `new_zone` and records the zone.
-- Safe while ingest and reviews run: see daily_stats_zone. Run by this migration and by `npm run rebuild-stats`.
CREATE FUNCTION rebuild_daily_stats(new_zone text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n integer;
BEGIN
  PERFORM now() AT TIME ZONE new_zone; -- an unknown zone fails here, before anything changes
  PERFORM 1 FROM daily_stats_zone FOR UPDATE;
  -- Each statement below takes a new snapshot (READ COMMITTED, volatile function): it sees every writer that
  -- finished counting before the lock above was granted, and none that will count after it.
  DELETE FROM daily_stats;
  INSERT INTO daily_stats (day, project_id, new, resubmitted, complete, incomplete)
  SELECT day, project_id, sum(n_new), sum(n_resubmitted), sum(n_complete), sum(n_incomplete)
  FROM (
    SELECT (d.first_submitted_at AT TIME ZONE new_zone)::date AS day, d.project_id,
           count(*) AS n_new, 0 AS n_resubmitted, 0 AS n_complete, 0 AS n_incomplete
    FROM drops d
    GROUP BY 1, 2
    UNION ALL
    SELECT (s.sent_at AT TIME ZONE new_zone)::date, s.project_id, 0, count(DISTINCT s.drop_number), 0, 0
    FROM submissions s
    WHERE s.is_resubmission
    GROUP BY 1, 2
    UNION ALL
    SELECT l.day, d.project_id, 0, 0,
           count(*) FILTER (WHERE l.status = 'complete'), count(*) FILTER (WHERE l.status = 'incomplete')
    FROM (
      SELECT DISTINCT ON (r.drop_number, (r.created_at AT TIME ZONE new_zone)::date)
             r.drop_number, (r.created_at AT TIME ZONE new_zone)::date AS day, r.status
      FROM reviews r
      ORDER BY r.drop_number, (r.created_at AT TIME ZONE new_zone)::date, r.created_at DESC, r.id DESC
    ) l
    JOIN drops d ON d.drop_number = l.drop_number
    GROUP BY 1, 2
  ) counts
  GROUP BY day, project_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO daily_stats_zone (zone) VALUES (new_zone)
  ON CONFLICT (only_row) DO UPDATE SET zone = excluded.zone, rebuilt_at = now();
  RETURN n;
END
$$;

-- A migration cannot know the Worker's TIMEZONE: the backfill counts in the zone wrangler.toml ships. A Worker
-- configured with another zone answers GET /v1/stats/daily with 409 stats_zone_mismatch, naming the command
-- that rebuilds the rollup in its zone (`TIMEZONE=… npm run rebuild-stats`), until that has run.
SELECT rebuild_daily_stats('Africa/Johannesburg');
