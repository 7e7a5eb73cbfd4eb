-- Daily stats read a month of drops at a time; covering indexes let those counts come from index-only scans
-- instead of visiting ~10k heap rows per day of range.
CREATE INDEX drops_first_submitted_cover_idx ON drops (first_submitted_at) INCLUDE (project_id);
DROP INDEX drops_first_submitted_idx;

CREATE INDEX drops_reviewed_cover_idx ON drops (reviewed_at) INCLUDE (project_id, status) WHERE reviewed_at IS NOT NULL;
DROP INDEX drops_reviewed_idx;

CREATE INDEX submissions_resubmitted_cover_idx ON submissions (sent_at) INCLUDE (project_id, drop_number)
  WHERE is_resubmission;
DROP INDEX submissions_resubmitted_idx;
