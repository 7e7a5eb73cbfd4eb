-- migrate: no-transaction
-- The feed of one project filtered by status ("Lawley, incomplete") reads its page straight from this index, in
-- feed order, however rare that status is in that project; without it Postgres walks the project's drops (or
-- every drop of that status) until it has a page. Built CONCURRENTLY: drops is the largest table and takes
-- writes all day.
CREATE INDEX CONCURRENTLY IF NOT EXISTS drops_project_status_feed_idx
  ON drops (project_id, status, last_submitted_at DESC, drop_number DESC);
