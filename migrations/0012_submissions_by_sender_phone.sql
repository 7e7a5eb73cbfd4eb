-- migrate: no-transaction
-- The same look-up by the sender's phone, when known: one person can post under a phone-number JID and under a
-- LID (WhatsApp's privacy id), and the phone is what ties the two together.
CREATE INDEX CONCURRENTLY IF NOT EXISTS submissions_sender_phone_idx ON submissions (chat_jid, sender_phone, sent_at)
  WHERE sender_phone IS NOT NULL;
