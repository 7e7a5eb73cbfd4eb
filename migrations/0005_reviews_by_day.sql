-- migrate: no-transaction
-- Daily stats count complete/incomplete from the reviews made in the range (the last of each drop and day):
-- reviews by time, covering what the count reads. Built CONCURRENTLY: reviews grows with every review, and a
-- plain CREATE INDEX would block them while it builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS reviews_created_cover_idx ON reviews (created_at) INCLUDE (drop_number, status, id);
