-- migrate: no-transaction
-- A photo without a caption or a quoted drop goes to its sender's nearest drop message in the group: that
-- sender's posts in the group around the photo's time, read from this index (photo-links.ts). Built
-- CONCURRENTLY: submissions grows with every drop and takes writes all day.
CREATE INDEX CONCURRENTLY IF NOT EXISTS submissions_sender_idx ON submissions (chat_jid, sender_jid, sent_at);
