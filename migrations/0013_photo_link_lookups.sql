-- What re-linking reads when a drop message arrives (photo-links.ts): the photos of its sender around its time,
-- by JID (photos_sender_idx) or by phone, and the photos whose caption or quoted message names a drop that has
-- just been created. The expression must stay the one photo-links.ts writes, (caption_drops || quoted_drops).
CREATE INDEX photos_sender_phone_idx ON photos (chat_jid, sender_phone, sent_at) WHERE sender_phone IS NOT NULL;
CREATE INDEX photos_named_drops_idx ON photos USING gin ((caption_drops || quoted_drops));
